using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Diagnostics;

/// <summary>FlowScope's own log messages, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "FlowScope is capturing; dashboard at {DashboardPath}.")]
    public static partial void Started(ILogger logger, string dashboardPath);

    [LoggerMessage(2, LogLevel.Information, "FlowScope is disabled (FlowScope:Enabled=false): nothing is captured and the dashboard is not mapped.")]
    public static partial void Disabled(ILogger logger);

    [LoggerMessage(3, LogLevel.Warning, "FlowScope's span buffer is full (capacity {Capacity}); spans are being dropped and counted. Raise FlowScope:BufferCapacity or capture less.")]
    public static partial void BufferFull(ILogger logger, int capacity);

    [LoggerMessage(4, LogLevel.Warning, "FlowScope could not convert a span from source {Source}; it was dropped and counted.")]
    public static partial void ConversionFailed(ILogger logger, Exception exception, string source);

    [LoggerMessage(5, LogLevel.Error, "FlowScope's trace store failed to accept a batch of {Count} spans; they were dropped and counted.")]
    public static partial void StoreFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(6, LogLevel.Warning, "FlowScope's live stream failed for one client.")]
    public static partial void StreamFailed(ILogger logger, Exception exception);

    [LoggerMessage(7, LogLevel.Debug, "FlowScope refused a dashboard request from non-loopback address {RemoteAddress}. Map the dashboard with RequireAuthorization(...) or set FlowScope:AllowRemoteDashboard to open it.")]
    public static partial void RemoteRefused(ILogger logger, string? remoteAddress);

    [LoggerMessage(8, LogLevel.Warning, "FlowScope could not instrument the WebApplication's middleware; requests are still captured, without middleware stages.")]
    public static partial void PipelineNotInstrumented(ILogger logger, Exception exception);

    [LoggerMessage(9, LogLevel.Warning, "FlowScope's live metrics ({Observer}) failed on a batch; the spans are stored, the figures may lag.")]
    public static partial void ObserverFailed(ILogger logger, Exception exception, string observer);

    [LoggerMessage(10, LogLevel.Warning, "FlowScope dashboard access link (valid until the app restarts; treat it as a password): {Link}")]
    public static partial void AccessLink(ILogger logger, string link);

    [LoggerMessage(11, LogLevel.Warning, "FlowScope operator action: {Action} ({Detail}) by {Caller}.")]
    public static partial void OperatorAction(ILogger logger, string action, string detail, string caller);

    [LoggerMessage(12, LogLevel.Warning, "FlowScope simulator '{Simulator}' failed a run; further failures are counted (api/simulators) without logging until it is restarted.")]
    public static partial void SimulatorFailed(ILogger logger, Exception exception, string simulator);
}
