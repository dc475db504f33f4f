namespace FlowScope.Embedded.Redis;

/// <summary>
/// Options for FlowScope's Redis Streams persistence, bound from the <c>FlowScope:Redis</c> configuration section
/// and then from the delegate passed to <c>AddRedisStreams</c>. Validated when the host starts. Without a
/// <see cref="ConnectionString"/>, FlowScope keeps its in-memory store.
/// </summary>
public sealed class RedisStreamsOptions
{
    /// <summary>The configuration section these options bind: <c>FlowScope:Redis</c>.</summary>
    public const string SectionName = "FlowScope:Redis";

    /// <summary>The default value of <see cref="KeyPrefix"/>: <c>flowscope</c>.</summary>
    public const string DefaultKeyPrefix = "flowscope";

    /// <summary>
    /// The default value of <see cref="MaxStreamEntries"/>: 10 000 entries — up to about 490 MB in Redis when every
    /// entry is full of separate spans (2 560 000 spans at ~190 B; ~100 MB with <see cref="Compress"/>), a few MB at
    /// light load (entries of a handful of spans).
    /// </summary>
    public const long DefaultMaxStreamEntries = 10_000;

    /// <summary>The default value of <see cref="Shards"/>: 1 (one stream, the keys without a hash tag).</summary>
    public const int DefaultShards = 1;

    /// <summary>The largest value of <see cref="Shards"/>: 64.</summary>
    public const int MaxShards = 64;

    /// <summary>The default value of <see cref="KeptRetention"/>: 24 hours.</summary>
    public static readonly TimeSpan DefaultKeptRetention = TimeSpan.FromHours(24);

    /// <summary>The default value of <see cref="MaxKeptTraces"/>: 20 000 traces.</summary>
    public const long DefaultMaxKeptTraces = 20_000;

    /// <summary>The default value of <see cref="MaxSpansPerEntry"/>: 256 spans.</summary>
    public const int DefaultMaxSpansPerEntry = 256;

    /// <summary>The default value of <see cref="WriterQueueCapacity"/>: 65 536 spans.</summary>
    public const int DefaultWriterQueueCapacity = 65_536;

    /// <summary>The default value of <see cref="RetryBufferCapacity"/>: 131 072 spans.</summary>
    public const int DefaultRetryBufferCapacity = 131_072;

    /// <summary>The default value of <see cref="MaxHistoryEntriesOnStart"/>: 4 000 entries.</summary>
    public const int DefaultMaxHistoryEntriesOnStart = 4_000;

    /// <summary>The default value of <see cref="ConsumerGroupName"/>: <c>flowscope-index</c>.</summary>
    public const string DefaultConsumerGroupName = "flowscope-index";

    /// <summary>The default value of <see cref="RetryBaseDelay"/>: 200 milliseconds.</summary>
    public static readonly TimeSpan DefaultRetryBaseDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>The default value of <see cref="RetryMaxDelay"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultRetryMaxDelay = TimeSpan.FromSeconds(30);

    /// <summary>The default value of <see cref="ConnectTimeout"/>: 2 seconds.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The default value of <see cref="OperationTimeout"/>: 2 seconds.</summary>
    public static readonly TimeSpan DefaultOperationTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The default value of <see cref="PollInterval"/>: 1 second.</summary>
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>The default value of <see cref="ClaimMinIdleTime"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultClaimMinIdleTime = TimeSpan.FromSeconds(30);

    /// <summary>The default value of <see cref="ClaimInterval"/>: 10 seconds.</summary>
    public static readonly TimeSpan DefaultClaimInterval = TimeSpan.FromSeconds(10);

    /// <summary>The default value of <see cref="IndexTimeToLive"/>: 24 hours.</summary>
    public static readonly TimeSpan DefaultIndexTimeToLive = TimeSpan.FromHours(24);

    /// <summary>The default value of <see cref="ShutdownTimeout"/>: 5 seconds.</summary>
    public static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets the StackExchange.Redis connection string (for example <c>localhost:6379</c>). When empty, Redis
    /// persistence is off and FlowScope keeps its in-memory store. FlowScope always applies
    /// <c>abortConnect=false</c>, fail-fast behaviour while disconnected and the timeouts below on top of it.
    /// </summary>
    /// <value>The default value is <see langword="null"/> (off).</value>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Gets or sets the prefix of every key FlowScope uses. The span stream is <c>{prefix}:spans</c>, the wake-up
    /// channel <c>{prefix}:spans:new</c>, the shared index keys start with <c>{prefix}:index:</c>.
    /// </summary>
    /// <value>The default value is <see cref="DefaultKeyPrefix"/>.</value>
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>
    /// Gets or sets how many shards the shared history is spread over, from 1 to <see cref="MaxShards"/>. One keeps a
    /// single stream (<c>{prefix}:spans</c>, index <c>{prefix}:index:*</c>). With more, each shard has its own stream
    /// and index under its own hash tag (<c>{prefix}:{0of3-…}:spans</c>), so on a Redis Cluster the shards land on
    /// different nodes; a trace's spans always go to the shard of its trace id. Every instance must use the same value:
    /// another value is another layout, and the history written with the previous one is not read.
    /// </summary>
    /// <value>The default value is <see cref="DefaultShards"/>.</value>
    public int Shards { get; set; } = DefaultShards;

    /// <summary>
    /// Gets or sets roughly how many entries the streams keep (<c>XADD … MAXLEN ~</c>; with several shards each keeps
    /// its equal part). Each entry packs up to
    /// <see cref="MaxSpansPerEntry"/> spans; see docs/redis.md for memory per span.
    /// </summary>
    /// <value>The default value is <see cref="DefaultMaxStreamEntries"/>.</value>
    public long MaxStreamEntries { get; set; } = DefaultMaxStreamEntries;

    /// <summary>
    /// Gets or sets how long entries are kept at least; older ones are trimmed with <c>XTRIM MINID</c>
    /// (at most every tenth of the retention, between 1 second and 1 minute).
    /// <see langword="null"/> keeps entries until <see cref="MaxStreamEntries"/> trims them.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public TimeSpan? Retention { get; set; }

    /// <summary>
    /// Gets or sets how long traces kept for an error or as slow stay retrievable in Redis. When the app's retention
    /// policy (<c>FlowScope:Retention</c>) would keep a trace for an error (a span failed) or as slow (its root took at
    /// least <c>SlowThreshold</c>), the whole trace is also copied to its shard's kept stream
    /// (<c>{prefix}:kept</c>), which only age trims: the main stream moves on with the traffic
    /// (<see cref="MaxStreamEntries"/>), the errors stay. Lookups by id fall back to the copy, and an instance that
    /// starts loads the newest copies beside the recent history. <see langword="null"/> switches the copies off.
    /// </summary>
    /// <value>The default value is <see cref="DefaultKeptRetention"/>.</value>
    public TimeSpan? KeptRetention { get; set; } = DefaultKeptRetention;

    /// <summary>
    /// Gets or sets roughly how many kept traces the kept streams hold at most (shared by the shards), whatever their
    /// age: the bound on the memory they take (see docs/redis.md).
    /// </summary>
    /// <value>The default value is <see cref="DefaultMaxKeptTraces"/>.</value>
    public long MaxKeptTraces { get; set; } = DefaultMaxKeptTraces;

    /// <summary>Gets or sets how many spans one stream entry packs at most.</summary>
    /// <value>The default value is <see cref="DefaultMaxSpansPerEntry"/>.</value>
    public int MaxSpansPerEntry { get; set; } = DefaultMaxSpansPerEntry;

    /// <summary>
    /// Gets or sets whether entry payloads are deflate-compressed: about a fifth of the Redis memory per span, for about
    /// 0.6 µs more of the writer's CPU per span (see docs/redis.md). Off by default because the writer runs inside the app.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Compress { get; set; }

    /// <summary>
    /// Gets or sets how many spans may wait for the writer (shared by the shards, each taking an equal part). When
    /// full, new spans are not persisted (they stay in the local store) and are counted as dropped.
    /// </summary>
    /// <value>The default value is <see cref="DefaultWriterQueueCapacity"/>.</value>
    public int WriterQueueCapacity { get; set; } = DefaultWriterQueueCapacity;

    /// <summary>
    /// Gets or sets how many spans of failed writes are kept for retry (shared by the shards, each taking an equal
    /// part of at least one entry). When full, the oldest entries are dropped and counted.
    /// </summary>
    /// <value>The default value is <see cref="DefaultRetryBufferCapacity"/>.</value>
    public int RetryBufferCapacity { get; set; } = DefaultRetryBufferCapacity;

    /// <summary>Gets or sets the base of the exponential retry backoff (full jitter).</summary>
    /// <value>The default value is <see cref="DefaultRetryBaseDelay"/>.</value>
    public TimeSpan RetryBaseDelay { get; set; } = DefaultRetryBaseDelay;

    /// <summary>Gets or sets the cap of the retry backoff.</summary>
    /// <value>The default value is <see cref="DefaultRetryMaxDelay"/>.</value>
    public TimeSpan RetryMaxDelay { get; set; } = DefaultRetryMaxDelay;

    /// <summary>Gets or sets how long one connection attempt may take.</summary>
    /// <value>The default value is <see cref="DefaultConnectTimeout"/>.</value>
    public TimeSpan ConnectTimeout { get; set; } = DefaultConnectTimeout;

    /// <summary>Gets or sets how long one Redis command may take before it counts as failed.</summary>
    /// <value>The default value is <see cref="DefaultOperationTimeout"/>.</value>
    public TimeSpan OperationTimeout { get; set; } = DefaultOperationTimeout;

    /// <summary>
    /// Gets or sets whether this instance reads the shared stream into its dashboard (other instances' spans and,
    /// at start, the retained history).
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool ReadSharedHistory { get; set; } = true;

    /// <summary>
    /// Gets or sets how many of the newest stream entries (of all shards together) the reader loads at start. The local index keeps
    /// <c>FlowScope:MaxTraces</c> traces anyway, so reading a long stream from its very beginning would only cost
    /// start-up time; older traces are still found through the shared index when looked up by id.
    /// </summary>
    /// <value>The default value is <see cref="DefaultMaxHistoryEntriesOnStart"/>.</value>
    public int MaxHistoryEntriesOnStart { get; set; } = DefaultMaxHistoryEntriesOnStart;

    /// <summary>
    /// Gets or sets how often the reader looks for new entries when no wake-up message arrives (a fallback: writers
    /// publish a wake-up after each write).
    /// </summary>
    /// <value>The default value is <see cref="DefaultPollInterval"/>.</value>
    public TimeSpan PollInterval { get; set; } = DefaultPollInterval;

    /// <summary>
    /// Gets or sets whether this instance joins the consumer group that maintains the shared trace index and
    /// component metrics in Redis.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool EnableConsumerGroup { get; set; } = true;

    /// <summary>Gets or sets the consumer group's name.</summary>
    /// <value>The default value is <see cref="DefaultConsumerGroupName"/>.</value>
    public string ConsumerGroupName { get; set; } = DefaultConsumerGroupName;

    /// <summary>Gets or sets how long an entry stays pending with a consumer before another one reclaims it (<c>XAUTOCLAIM</c>).</summary>
    /// <value>The default value is <see cref="DefaultClaimMinIdleTime"/>.</value>
    public TimeSpan ClaimMinIdleTime { get; set; } = DefaultClaimMinIdleTime;

    /// <summary>Gets or sets how often a consumer looks for entries to reclaim.</summary>
    /// <value>The default value is <see cref="DefaultClaimInterval"/>.</value>
    public TimeSpan ClaimInterval { get; set; } = DefaultClaimInterval;

    /// <summary>Gets or sets how long shared index keys live after their last update.</summary>
    /// <value>The default value is <see cref="DefaultIndexTimeToLive"/>.</value>
    public TimeSpan IndexTimeToLive { get; set; } = DefaultIndexTimeToLive;

    /// <summary>Gets or sets how long the writer may spend persisting what is still queued when the host stops.</summary>
    /// <value>The default value is <see cref="DefaultShutdownTimeout"/>.</value>
    public TimeSpan ShutdownTimeout { get; set; } = DefaultShutdownTimeout;

    /// <summary>How long after a trace is chosen its copy is made, so that spans ending a little later (a queue handler) are in it.</summary>
    internal TimeSpan KeptSettleDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets whether a connection string is configured.</summary>
    internal bool IsEnabled => !string.IsNullOrWhiteSpace(ConnectionString);

    /// <summary>Gets the keys these options describe.</summary>
    internal Sharding.RedisKeyLayout CreateLayout() => new(KeyPrefix, Shards);
}
