using System.Diagnostics;

namespace FlowScope.Embedded.Testing.Internal;

/// <summary>
/// Starts a new trace for every request it sends: a fresh <c>traceparent</c> (sampled) replaces any other, so the
/// app's request joins a trace only this capture knows, and the capture records its id.
/// </summary>
internal sealed class TraceparentHandler(TraceCapture capture) : DelegatingHandler
{
    public const string HeaderName = "traceparent";

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var traceId = ActivityTraceId.CreateRandom();
        var parent = ActivitySpanId.CreateRandom();
        request.Headers.Remove(HeaderName);
        request.Headers.Remove("tracestate");
        request.Headers.TryAddWithoutValidation(HeaderName, $"00-{traceId.ToHexString()}-{parent.ToHexString()}-01");
        capture.Record(traceId.ToHexString());
        return base.SendAsync(request, cancellationToken);
    }

    /// <summary>The trace id this handler put on <paramref name="request"/>, if it sent it.</summary>
    public static string? TraceIdOf(HttpRequestMessage? request)
    {
        if (request is null || !request.Headers.TryGetValues(HeaderName, out var values))
        {
            return null;
        }

        var value = values.FirstOrDefault();
        return value is { Length: 55 } && value[2] == '-' ? value.Substring(3, 32) : null;
    }
}
