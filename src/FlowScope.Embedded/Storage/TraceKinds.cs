using System.Diagnostics;
using FlowScope.Embedded.Storage.Encoding;

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

    /// <summary>The kind of a trace, from its root span's payload.</summary>
    public static string Of(SpanPayload root) => UnitOf(root) ?? (root.Component.Number == s_queue ? Message : Other);

    /// <summary>
    /// The kind of work a span stands for when it is a unit of work of its own (a request, a connection, a handled
    /// message, a worker's unit, a simulator run), wherever it sits in its trace; <see langword="null"/> for every
    /// other span (middleware, steps, database calls, sends).
    /// </summary>
    public static string? UnitOf(SpanPayload span)
    {
        var component = span.Component;
        if (component.Number == s_server && span.Kind == ActivityKind.Server)
        {
            return IsConnection(span) ? Connection : span.TryGetAttribute(s_method, out _) ? Http : Message;
        }

        if (component.Number == s_queue)
        {
            return span.Kind == ActivityKind.Consumer ? Message : null;
        }

        if (component.Number == s_signalR && span.Kind == ActivityKind.Server)
        {
            return Message; // a hub connect, invocation or disconnect: a message on a connection
        }

        return component.Number == s_worker ? Worker : component.Number == s_simulator ? Simulator : null;
    }

    /// <summary>
    /// Whether a request span is a long-lived connection: marked by the capture (<see cref="ConnectionAttribute"/>),
    /// or answered with 101 Switching Protocols (a WebSocket upgrade), which no ordinary request is.
    /// </summary>
    public static bool IsConnection(SpanPayload request) =>
        (request.TryGetAttribute(s_connection, out var kind) && !kind.IsEmpty)
        || (request.TryGetAttribute(s_status, out var status) && status.ToString() == "101");

    /// <summary>As <see cref="Of(SpanPayload)"/> for a record (read back, or made by hand).</summary>
    public static string Of(SpanRecord root) => Of(new SpanPayload(Encode(root)));

    /// <summary>As <see cref="UnitOf(SpanPayload)"/> for a record.</summary>
    public static string? UnitOf(SpanRecord span) => UnitOf(new SpanPayload(Encode(span)));

    private static ReadOnlySpan<byte> Encode(SpanRecord span)
    {
        ArgumentNullException.ThrowIfNull(span);
        return SpanBatch.Encode([span]).GetPayload(0);
    }

    private static readonly int s_server = WellKnownStrings.NumberOf(SpanComponents.Server);
    private static readonly int s_queue = WellKnownStrings.NumberOf(SpanComponents.Queue);
    private static readonly int s_signalR = WellKnownStrings.NumberOf(SpanComponents.SignalR);
    private static readonly int s_worker = WellKnownStrings.NumberOf(SpanComponents.Worker);
    private static readonly int s_simulator = WellKnownStrings.NumberOf(SpanComponents.Simulator);
    private static readonly int s_method = WellKnownStrings.NumberOf("http.request.method");
    private static readonly int s_status = WellKnownStrings.NumberOf("http.response.status_code");
    private static readonly int s_connection = WellKnownStrings.NumberOf(ConnectionAttribute);

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
