namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// Adds a section to <c>GET api/stats</c> (and the dashboard's header) for a part of FlowScope that keeps counters of
/// its own, such as the Redis writer: persisted, waiting, dropped.
/// </summary>
internal interface IStatsContributor
{
    /// <summary>Gets the section name, for example <c>redis</c>.</summary>
    string Name { get; }

    /// <summary>Gets the section's counters now; an empty result leaves the section out.</summary>
    IReadOnlyDictionary<string, double> GetStats();
}
