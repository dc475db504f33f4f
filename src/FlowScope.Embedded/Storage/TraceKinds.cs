using System.Diagnostics;

namespace FlowScope.Embedded.Storage;

/// <summary>
/// What kind of work a trace's root (or any unit of work) is: the one place that decides it, for the trace list, the
/// header's figures and the API's <c>kind</c>.
/// </summary>
internal static class TraceKinds
{
    /// <summary>An incoming HTTP request.</summary>
    public const string Http = "http";

    /// <summary>A long-lived connection (WebSocket, SSE, SignalR, gRPC streaming, long polling): not a request.</summary>
    public const string Connection = "connection";

    /// <summary>
    /// A message handled: a queue message (consumed, or sent outside a request), or an incoming message that is not an
    /// HTTP request (a server span without an HTTP method, such as a WebSocket frame an app traces).
    /// </summary>
    public const string Message = "message";

    /// <summary>A unit of work of a hosted worker.</summary>
    public const string Worker = "worker";

    /// <summary>A run of a simulator (simulated load).</summary>
    public const string Simulator = "simulator";

    /// <summary>Anything else (custom root spans, outbound calls with no parent, …).</summary>
    public const string Other = "other";

    /// <summary>The attribute a request span carries when it is a long-lived connection; its value says which kind.</summary>
    public const string ConnectionAttribute = "flowscope.connection";

    /// <summary>Every kind, in the order the dashboard shows them.</summary>
    public static readonly IReadOnlyList<string> All = [Http, Connection, Message, Worker, Simulator, Other];

    /// <summary>The kind of a trace, from its root span.</summary>
    public static string Of(SpanRecord root)
    {
        ArgumentNullException.ThrowIfNull(root);
        return UnitOf(root) ?? (root.Component == SpanComponents.Queue ? Message : Other);
    }

    /// <summary>
    /// The kind of work a span stands for when it is a unit of work of its own (a request, a connection, a handled
    /// message, a worker's unit, a simulator run), wherever it sits in its trace; <see langword="null"/> for every
    /// other span (middleware, steps, database calls, sends).
    /// </summary>
    public static string? UnitOf(SpanRecord span)
    {
        ArgumentNullException.ThrowIfNull(span);
        switch (span.Component)
        {
            case SpanComponents.Server when span.Kind == ActivityKind.Server:
                return IsConnection(span) ? Connection : span.GetAttribute("http.request.method") is null ? Message : Http;
            case SpanComponents.Queue when span.Kind == ActivityKind.Consumer:
                return Message;
            case SpanComponents.Worker:
                return Worker;
            case SpanComponents.Simulator:
                return Simulator;
            default:
                return null;
        }
    }

    /// <summary>
    /// Whether a request span is a long-lived connection: marked by the capture (<see cref="ConnectionAttribute"/>),
    /// or answered with 101 Switching Protocols (a WebSocket upgrade), which no ordinary request is.
    /// </summary>
    public static bool IsConnection(SpanRecord request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return !string.IsNullOrEmpty(request.GetAttribute(ConnectionAttribute))
            || request.GetAttribute("http.response.status_code") == "101";
    }

    /// <summary>Whether <paramref name="kind"/> is one of <see cref="All"/> (case-insensitive); gives the canonical name.</summary>
    public static bool TryParse(string? kind, out string canonical)
    {
        foreach (var k in All)
        {
            if (string.Equals(k, kind, StringComparison.OrdinalIgnoreCase))
            {
                canonical = k;
                return true;
            }
        }

        canonical = string.Empty;
        return false;
    }
}
