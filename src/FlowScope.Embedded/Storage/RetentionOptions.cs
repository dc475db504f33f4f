namespace FlowScope.Embedded.Storage;

/// <summary>
/// What the in-memory store keeps when traffic is heavy, within its memory cap (<see cref="FlowScopeOptions.MaxStoreMegabytes"/>),
/// bound from <c>FlowScope:Retention</c>. The newest traces are always kept; when the oldest ones must make room, each
/// is decided once it has gone quiet: an error trace is kept while errors fit their share of the cap, a slow outlier
/// (at or above its route's recent p99, or slower than <see cref="SlowThreshold"/>) while slow traces fit theirs, and a few
/// ordinary traces of every route are kept as a sample so that rare routes are never crowded out by hot ones.
/// </summary>
public sealed class RetentionOptions
{
    /// <summary>The default value of <see cref="ErrorShare"/>: a quarter of the cap.</summary>
    public const double DefaultErrorShare = 0.25;

    /// <summary>The default value of <see cref="SlowShare"/>: an eighth of the cap.</summary>
    public const double DefaultSlowShare = 0.125;

    /// <summary>The default value of <see cref="SampleShare"/>: an eighth of the cap.</summary>
    public const double DefaultSampleShare = 0.125;

    /// <summary>The default value of <see cref="SamplesPerRoute"/>: 10 traces.</summary>
    public const int DefaultSamplesPerRoute = 10;

    /// <summary>The default value of <see cref="SlowThreshold"/>: 1 second.</summary>
    public static readonly TimeSpan DefaultSlowThreshold = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the share of the memory cap that traces kept for an error may take (0 keeps none beyond the newest).</summary>
    /// <value>The default value is <see cref="DefaultErrorShare"/>.</value>
    public double ErrorShare { get; set; } = DefaultErrorShare;

    /// <summary>Gets or sets the share of the memory cap that slow outliers may take.</summary>
    /// <value>The default value is <see cref="DefaultSlowShare"/>.</value>
    public double SlowShare { get; set; } = DefaultSlowShare;

    /// <summary>Gets or sets the share of the memory cap that the per-route sample of ordinary traces may take.</summary>
    /// <value>The default value is <see cref="DefaultSampleShare"/>.</value>
    public double SampleShare { get; set; } = DefaultSampleShare;

    /// <summary>Gets or sets how many ordinary traces of each route (and kind) the sample keeps.</summary>
    /// <value>The default value is <see cref="DefaultSamplesPerRoute"/>.</value>
    public int SamplesPerRoute { get; set; } = DefaultSamplesPerRoute;

    /// <summary>
    /// Gets or sets the duration from which a trace counts as slow whatever its route (a trace also counts as slow at
    /// or above its route's recent p99 when that is more than twice the route's median, once the route has been seen
    /// 100 times).
    /// </summary>
    /// <value>The default value is <see cref="DefaultSlowThreshold"/>.</value>
    public TimeSpan SlowThreshold { get; set; } = DefaultSlowThreshold;
}
