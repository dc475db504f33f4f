namespace FlowScope.Embedded.Workers.Internal;

/// <summary>The lifecycle states a worker shows.</summary>
internal static class WorkerStates
{
    /// <summary>The host is starting it.</summary>
    public const string Starting = "starting";

    /// <summary>Started, or running a unit of work.</summary>
    public const string Running = "running";

    /// <summary>Between units of work.</summary>
    public const string Idle = "idle";

    /// <summary>Its <c>ExecuteAsync</c> ended with an exception.</summary>
    public const string Faulted = "faulted";

    /// <summary>Stopped with the host, or its <c>ExecuteAsync</c> returned.</summary>
    public const string Stopped = "stopped";
}
