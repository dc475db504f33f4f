namespace FlowScope.Embedded.Simulators;

/// <summary>
/// Options of one simulator registered with <c>AddSimulator</c>, bound from <c>FlowScope:Simulators:{name}</c> and
/// then from the delegate passed to <c>AddSimulator</c>. Validated when the host starts.
/// </summary>
public sealed class SimulatorOptions
{
    /// <summary>The lowest rate a simulator can be set to: 0.01 runs per second (one every 100 seconds).</summary>
    public const double MinRatePerSecond = 0.01;

    /// <summary>The default value of <see cref="RatePerSecond"/>: one run per second.</summary>
    public const double DefaultRatePerSecond = 1;

    /// <summary>The default value of <see cref="MaxRatePerSecond"/>: 100 runs per second.</summary>
    public const double DefaultMaxRatePerSecond = 100;

    /// <summary>Gets or sets what the simulator does, shown beside it in the dashboard.</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public string? Description { get; set; }

    /// <summary>
    /// Gets or sets how many runs per second the simulator starts with. Runs never overlap: when one run takes longer
    /// than 1 / rate, the next starts as soon as it ends.
    /// </summary>
    /// <value>The default value is <see cref="DefaultRatePerSecond"/>.</value>
    public double RatePerSecond { get; set; } = DefaultRatePerSecond;

    /// <summary>Gets or sets the highest rate an operator may set from the dashboard.</summary>
    /// <value>The default value is <see cref="DefaultMaxRatePerSecond"/>.</value>
    public double MaxRatePerSecond { get; set; } = DefaultMaxRatePerSecond;

    /// <summary>Gets or sets whether the simulator runs as soon as the app has started, without an operator starting it.</summary>
    /// <value>The default value is <see langword="false"/>: it waits for an operator.</value>
    public bool StartOnStartup { get; set; }
}
