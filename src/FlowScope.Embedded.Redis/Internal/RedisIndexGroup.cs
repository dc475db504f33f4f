namespace FlowScope.Embedded.Redis.Internal;

/// <summary>This instance's consumers of the shared index: one per shard, each with its own loop and consumer group.</summary>
internal sealed class RedisIndexGroup(IReadOnlyList<RedisIndexProcessor> shards)
{
    public IReadOnlyList<RedisIndexProcessor> Shards { get; } = shards;

    /// <summary>Gets the consumers' counters added up.</summary>
    public RedisIndexStats GetStats() => RedisIndexStats.Sum(Shards.Select(s => s.GetStats()));

    /// <summary>Runs every shard's loop until <paramref name="stoppingToken"/> fires.</summary>
    public Task RunAsync(CancellationToken stoppingToken) => Task.WhenAll(Shards.Select(s => Task.Run(() => s.RunAsync(stoppingToken), CancellationToken.None)));
}
