using FlowScope.Embedded.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.IntegrationTests.Interop;

public sealed class PropagationTests
{
    [Fact]
    public async Task An_incoming_traceparent_is_continued_and_outgoing_calls_carry_the_trace()
    {
        await using var app = await KestrelApp.StartAsync(flowScope: true);
        var traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        using var request = new HttpRequestMessage(HttpMethod.Get, "/upstream");
        request.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");

        using var response = await app.Client.SendAsync(request);
        Assert.Equal("upstream+downstream", await response.Content.ReadAsStringAsync());

        var store = app.App.Services.GetRequiredService<ITraceStore>();
        TraceDetail? trace = null;
        await Eventually.TrueAsync(async () => (trace = await store.GetTraceAsync(traceId)) is { } t && t.Spans.Any(s => s.Name == "GET /downstream") && t.Spans.Any(s => s.Name == "GET /upstream"));

        var upstream = trace!.Spans.Single(s => s.Name == "GET /upstream" && s.Component == "server");
        var client = trace.Spans.Single(s => s.Component == "http-client");
        var downstream = trace.Spans.Single(s => s.Name == "GET /downstream" && s.Component == "server");

        Assert.True(upstream.HasRemoteParent);
        Assert.Equal("00f067aa0ba902b7", upstream.ParentSpanId);
        Assert.Equal(client.SpanId, downstream.ParentSpanId); // traceparent went out with the HttpClient call
        Assert.Equal("/upstream", trace.Summary.Route);
        Assert.Equal("GET /upstream", trace.Summary.Name);

        // The outbound call sits under the endpoint stage that made it.
        var endpoint = trace.Spans.Single(s => s.Component == "endpoint" && s.Name == "GET /upstream");
        Assert.Equal(endpoint.SpanId, client.ParentSpanId);
        Assert.Equal("GET", client.GetAttribute("http.request.method"));
    }
}
