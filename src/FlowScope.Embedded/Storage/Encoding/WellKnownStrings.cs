using System.Collections.Frozen;

namespace FlowScope.Embedded.Storage.Encoding;

/// <summary>
/// Texts that recur in nearly every span (attribute keys of the semantic conventions, components, sources, HTTP
/// methods and status codes, log levels), written as a one- or two-byte reference instead of their characters. The
/// list is part of the encoded form: texts are only ever appended, so every process that reads a payload agrees on
/// the number of each.
/// </summary>
internal static class WellKnownStrings
{
    // Number 0 is the empty text. Append only: a text's number is its position.
    private static readonly string[] s_texts =
    [
        string.Empty,

        // Components.
        "server", "middleware", "endpoint", "controller", "worker", "queue", "http-client", "database", "simulator",
        "custom", "signalr", "grpc",

        // Sources.
        "Microsoft.AspNetCore", "System.Net.Http", "FlowScope.Pipeline", "FlowScope.Queues", "FlowScope.Workers",
        "FlowScope.Steps", "FlowScope.Simulators", "FlowScope.Database", "Microsoft.AspNetCore.SignalR.Server",
        "Grpc.Net.Client", "Npgsql", "MySqlConnector", "Microsoft.Data.SqlClient",

        // HTTP.
        "http.request.method", "http.request.method_original", "url.path", "url.query", "url.scheme", "url.full",
        "http.route", "http.response.status_code", "server.address", "server.port", "network.protocol.version",
        "network.protocol.name", "network.peer.address", "network.peer.port", "user_agent.original", "client.address",
        "http.request.resend_count", "error.type",
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "http", "https", "1.1", "2", "3",
        "200", "201", "202", "204", "301", "302", "304", "400", "401", "403", "404", "405", "409", "415", "422", "429",
        "500", "502", "503", "504",

        // Code, MVC and FlowScope's own attributes.
        "code.namespace", "code.function", "mvc.controller", "mvc.action", "mvc.filters",
        "flowscope.component", "flowscope.connection", "flowscope.fault.id", "flowscope.fault.delay_ms",
        "flowscope.fault.failure", "flowscope.queue.attempt", "flowscope.queue.dead_lettered", "flowscope.queue.depth",
        "flowscope.queue.outcome", "flowscope.queue.retries", "flowscope.queue.wait_ms", "flowscope.simulator.name",
        "flowscope.step.decision", "flowscope.step.observations_dropped", "flowscope.step.outcome",
        "flowscope.step.reason", "flowscope.worker.name", "flowscope.worker.outcome", "flowscope.worker.type",
        "flowscope.observation.key", "flowscope.observation.value", "flowscope.observation.type",
        "flowscope.observation.error", "flowscope.observation.truncated", "flowscope.db.count",
        "flowscope.db.n_plus_one", "flowscope.db.duplicates", "flowscope.db.repeated_statement",
        "flowscope.db.repeated_count", "flowscope.db.repeated_ms",

        // Messaging.
        "messaging.system", "messaging.destination.name", "messaging.operation.name", "messaging.operation.type",
        "messaging.message.id", "messaging.batch.message_count", "process", "send", "receive", "create", "publish",

        // Databases and RPC.
        "db.system.name", "db.system", "db.namespace", "db.operation.name", "db.query.text", "db.collection.name",
        "db.response.returned_rows", "db.response.status_code", "sqlite", "microsoft.sql_server", "postgresql", "mysql",
        "SELECT", "INSERT", "UPDATE", "rpc.system", "rpc.service", "rpc.method", "rpc.grpc.status_code",

        // Logs and exceptions.
        "log.level", "log.category", "log.event_id", "exception", "exception.type", "exception.message",
        "exception.stacktrace", "exception.escaped", "Trace", "Debug", "Information", "Warning", "Error", "Critical",
        "true", "false", "ok", "error", "0", "1",
    ];

    private static readonly FrozenDictionary<string, int> s_numbers = Build();

    /// <summary>The number of well-known texts.</summary>
    public static int Count => s_texts.Length;

    /// <summary>The number of <paramref name="text"/>, or -1 when it is not well known.</summary>
    public static int NumberOf(string text) => s_numbers.TryGetValue(text, out var number) ? number : -1;

    /// <summary>The number of <paramref name="text"/>, or -1 when it is not well known.</summary>
    public static int NumberOf(ReadOnlySpan<char> text) =>
        s_numbers.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(text, out var number) ? number : -1;

    /// <summary>Whether any well-known text contains <paramref name="value"/>, ignoring case.</summary>
    public static bool AnyContains(string value)
    {
        foreach (var text in s_texts)
        {
            if (text.Contains(value, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The text numbered <paramref name="number"/>.</summary>
    /// <exception cref="InvalidDataException">No text has that number.</exception>
    public static string Get(int number) =>
        (uint)number < (uint)s_texts.Length ? s_texts[number] : throw new InvalidDataException($"Unknown well-known text {number}.");

    private static FrozenDictionary<string, int> Build()
    {
        var numbers = new Dictionary<string, int>(s_texts.Length, StringComparer.Ordinal);
        for (var i = 0; i < s_texts.Length; i++)
        {
            numbers.TryAdd(s_texts[i], i);
        }

        return numbers.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
