namespace FlowScope.Embedded.Capture;

/// <summary>
/// Marks FlowScope's own asynchronous flow (the pump, the dashboard's handlers, store I/O) so the listener
/// samples none of the activities created inside it: FlowScope never records its own work.
/// </summary>
internal static class CaptureSuppression
{
    private static readonly AsyncLocal<bool> s_suppressed = new();

    public static bool IsSuppressed => s_suppressed.Value;

    /// <summary>Suppresses capture for the rest of the current asynchronous flow and its children.</summary>
    public static void SuppressCurrentFlow() => s_suppressed.Value = true;
}
