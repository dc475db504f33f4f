using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // ActivityListeners are process-wide

namespace FlowScope.Embedded.IntegrationTests;

/// <summary>A small ASP.NET Core app on a test server with FlowScope added, as a user would add it.</summary>
internal sealed class TestApp : IAsyncDisposable
{
    public static readonly ActivitySource Source = new("TestApp");

    private TestApp(WebApplication app)
    {
        App = app;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public ITraceStore Store => App.Services.GetRequiredService<ITraceStore>();

    public static async Task<TestApp> StartAsync(
        Dictionary<string, string?>? configuration = null,
        Action<WebApplicationBuilder>? configureBuilder = null,
        Action<WebApplication>? beforeFlowScope = null,
        bool addFlowScope = true)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }

        if (addFlowScope)
        {
            builder.Services.AddFlowScope(o => o.Sources.Add("TestApp"));
        }

        configureBuilder?.Invoke(builder);
        var app = builder.Build();
        beforeFlowScope?.Invoke(app);
        app.UseFlowScope();
        MapTestEndpoints(app);
        await app.StartAsync();
        return new TestApp(app);
    }

    public static void MapTestEndpoints(WebApplication app)
    {
        app.MapGet("/hello/{id:int}", (int id) => $"hello {id}");
        app.MapGet("/nested", () =>
        {
            using (var outer = Source.StartActivity("outer step"))
            {
                using var inner = Source.StartActivity("inner step");
                inner?.SetTag("step.detail", "deep");
            }

            return "nested";
        });
        app.MapGet("/boom", string () => throw new InvalidOperationException("The order could not be found."));
        app.MapGet("/teapot", () => Results.StatusCode(StatusCodes.Status418ImATeapot));
    }

    /// <summary>Waits until the store holds a trace matching <paramref name="predicate"/>.</summary>
    public async Task<TraceSummary> WaitForTraceAsync(Func<TraceSummary, bool> predicate, string because = "")
    {
        TraceSummary? found = null;
        await Eventually.TrueAsync(
            async () =>
            {
                var page = await Store.QueryAsync(new TraceQuery { Limit = TraceQuery.MaxLimit });
                found = page.Traces.FirstOrDefault(predicate);
                return found is not null;
            },
            because: because);
        return found!;
    }

    public async Task<JsonElement> GetJsonAsync(string url)
    {
        using var response = await Client.GetAsync(url);
        Assert.True(response.IsSuccessStatusCode, $"GET {url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
