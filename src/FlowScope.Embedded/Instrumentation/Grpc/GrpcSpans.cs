using System.Diagnostics;

namespace FlowScope.Embedded.Instrumentation.Grpc;

/// <summary>
/// What FlowScope reads from gRPC's own telemetry, without a reference to gRPC: Grpc.AspNetCore tags the request
/// activity with <c>grpc.method</c> ("/inventory.Stock/Check") and <c>grpc.status_code</c>; Grpc.Net.Client starts a
/// client activity on its <c>Grpc.Net.Client</c> source with the same tags. Both become OpenTelemetry's <c>rpc.*</c>
/// attributes, and the span is named by service and method.
/// </summary>
internal static class GrpcSpans
{
    private const string MethodTag = "grpc.method";
    private const string StatusTag = "grpc.status_code";

    /// <summary>The operation name of Grpc.Net.Client's call activity.</summary>
    internal const string ClientOperationName = "Grpc.Net.Client.GrpcOut";

    /// <summary>"inventory.Stock/Check" from the activity's <c>grpc.method</c> tag, or <see langword="null"/>.</summary>
    public static string? MethodName(Activity activity) =>
        activity.GetTagItem(MethodTag) is string method && method.Length > 1 ? method.TrimStart('/') : null;

    /// <summary>The call's gRPC status code (0 is OK), or <see langword="null"/> when it ended without one.</summary>
    public static int? StatusCode(Activity activity) => activity.GetTagItem(StatusTag) switch
    {
        string text when int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var code) => code,
        int code => code,
        _ => null,
    };

    /// <summary>
    /// Adds <c>rpc.system</c>, <c>rpc.service</c>, <c>rpc.method</c> and <c>rpc.grpc.status_code</c>; returns whether the
    /// status is an error: any status but OK for a client; for a server, the statuses OpenTelemetry counts as the
    /// server's failure (unknown, deadline exceeded, unimplemented, internal, unavailable, data loss).
    /// </summary>
    public static bool AddAttributes(Activity activity, string? service, string? method, bool server, Action<string, string> add)
    {
        if (service is null && MethodName(activity) is { } full && full.IndexOf('/', StringComparison.Ordinal) is var slash and > 0)
        {
            service = full[..slash];
            method = full[(slash + 1)..];
        }

        add("rpc.system", "grpc");
        if (service is not null)
        {
            add("rpc.service", service);
        }

        if (method is not null)
        {
            add("rpc.method", method);
        }

        if (StatusCode(activity) is not { } status)
        {
            return false;
        }

        add("rpc.grpc.status_code", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return server ? status is 2 or 4 or 12 or 13 or 14 or 15 : status != 0;
    }
}
