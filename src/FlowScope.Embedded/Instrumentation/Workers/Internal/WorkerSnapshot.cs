namespace FlowScope.Embedded.Workers.Internal;

/// <summary>One worker's state at one moment, for the dashboard's worker cards (<c>GET api/metrics</c>).</summary>
/// <param name="Name">The worker's name (its type name; <c>#2</c>… for further instances of one type).</param>
/// <param name="Type">The worker's full type name.</param>
/// <param name="State">One of <c>starting</c>, <c>running</c>, <c>idle</c>, <c>faulted</c>, <c>stopped</c>.</param>
/// <param name="StartedAt">When the host had started it (the end of host start), or <see langword="null"/>.</param>
/// <param name="LastRunAt">When its last unit of work began, or <see langword="null"/>.</param>
/// <param name="Runs">Units of work finished.</param>
/// <param name="Errors">Units of work failed, plus one when the worker faulted.</param>
/// <param name="LastError">The last error's type and message, or <see langword="null"/>.</param>
/// <param name="StateChangedAt">When the state last changed.</param>
/// <param name="InFlight">Units of work running now.</param>
/// <param name="LastErrorDetail">The last error with its stack trace (capped), or <see langword="null"/>.</param>
/// <param name="IsHostedService">Whether the worker is a hosted service FlowScope observes (otherwise it only reports units of work).</param>
internal sealed record WorkerSnapshot(
    string Name,
    string Type,
    string State,
    DateTimeOffset? StartedAt,
    DateTimeOffset? LastRunAt,
    long Runs,
    long Errors,
    string? LastError,
    DateTimeOffset StateChangedAt,
    int InFlight,
    string? LastErrorDetail,
    bool IsHostedService);
