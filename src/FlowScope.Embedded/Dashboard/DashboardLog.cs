using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Dashboard;

/// <summary>The dashboard's access logs (event ids 180–189).</summary>
internal static partial class DashboardLog
{
    [LoggerMessage(180, LogLevel.Warning, "FlowScope refused a dashboard request naming host '{Host}' (421). If that is your name for this machine, add it to FlowScope:DashboardAllowedHosts. Further refusals are logged at Debug level.")]
    public static partial void HostRefusedFirst(ILogger logger, string host);

    [LoggerMessage(181, LogLevel.Debug, "FlowScope refused a dashboard request naming host '{Host}' (421).")]
    public static partial void HostRefused(ILogger logger, string host);

    [LoggerMessage(182, LogLevel.Warning, "FlowScope treated a dashboard request from loopback carrying a {Header} header as remote: it came through a proxy, and the client behind it is unknown. Call app.UseForwardedHeaders() before UseFlowScope() so the client's own address is used. Logged once.")]
    public static partial void ForwardedLoopback(ILogger logger, string header);
}
