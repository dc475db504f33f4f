using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Mcp.Internal;

internal static partial class McpLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "FlowScope's MCP tool {Tool} failed; further failures are logged at debug level.")]
    public static partial void ToolFailedFirst(ILogger logger, Exception exception, string tool);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "FlowScope's MCP tool {Tool} failed.")]
    public static partial void ToolFailed(ILogger logger, Exception exception, string tool);
}
