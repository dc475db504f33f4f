namespace FlowScope.Embedded;

/// <summary>Names of the <see cref="System.Diagnostics.ActivitySource"/>s and <see cref="System.Diagnostics.Metrics.Meter"/> FlowScope uses.</summary>
public static class FlowScopeSources
{
    /// <summary>The prefix of every FlowScope activity source: <c>FlowScope</c>.</summary>
    public const string Prefix = "FlowScope";

    /// <summary>The name of FlowScope's self-diagnostics meter: <c>FlowScope</c>.</summary>
    public const string MeterName = "FlowScope";

    /// <summary>The source ASP.NET Core's hosting layer creates request activities on.</summary>
    internal const string AspNetCore = "Microsoft.AspNetCore";

    /// <summary>The source <c>HttpClient</c> creates outbound request activities on.</summary>
    internal const string HttpClient = "System.Net.Http";

    /// <summary>The source ASP.NET Core SignalR creates hub connect, invocation and disconnect activities on.</summary>
    internal const string SignalRServer = "Microsoft.AspNetCore.SignalR.Server";

    /// <summary>The source <c>Grpc.Net.Client</c> creates outbound gRPC call activities on.</summary>
    internal const string GrpcClient = "Grpc.Net.Client";

    /// <summary>The source name recorded on pipeline stages (middleware, endpoints, MVC steps).</summary>
    internal const string PipelineSourceName = "FlowScope.Pipeline";

    /// <summary>The operation name of ASP.NET Core's request activity.</summary>
    internal const string HostingOperationName = "Microsoft.AspNetCore.Hosting.HttpRequestIn";
}
