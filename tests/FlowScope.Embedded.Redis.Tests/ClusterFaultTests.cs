using System.Globalization;
using FlowScope.Embedded.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Tests;

/// <summary>
/// A Redis Cluster that changes under a writing instance: a master killed and started again, a shard's slot moved to
/// another master. Its own cluster: these tests change which master holds what.
/// </summary>
public class ClusterFaultTests(RedisCluster cluster) : IClassFixture<RedisCluster>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_killed_master_stops_only_its_shard_and_loses_only_counted_spans()
    {
        var prefix = RedisStack.NewPrefix();
        await using var stack = await RedisStack.StartAsync(cluster.ConnectionString, prefix, "web-a", o => o.Shards = 3);
        for (var i = 0; i < 30; i++)
        {
            await stack.Store.AddAsync(TestSpans.Trace("web-a", 3));
        }

        await stack.FlushedAsync(s_timeout);
        var victimShard = stack.Writer.Shards[1];
        var victim = await cluster.MasterOfSlotAsync(victimShard.Keys.Slot);

        cluster.Kill(victim);
        try
        {
            for (var i = 0; i < 90; i++)
            {
                await stack.Store.AddAsync(TestSpans.Trace("web-a", 3));
            }

            // The other shards keep writing; the victim's spans wait for retry.
            await Eventually.WaitUntilAsync(
                () => stack.Writer.Shards.Where(s => s != victimShard).All(s => s.GetStats() is { Waiting: 0, Persisted: > 0 }) && victimShard.GetStats().Retrying > 0,
                s_timeout, "the surviving shards persisted everything while the victim's shard retries");
            var during = stack.Writer.GetStats();
            Assert.Equal(during.Produced, during.Persisted + during.Waiting + during.Dropped);
            Assert.True(victimShard.GetStats().FailedWrites > 0);
        }
        finally
        {
            await cluster.RestartAsync(victim);
        }

        await stack.FlushedAsync(s_timeout);
        var after = stack.Writer.GetStats();
        Assert.Equal(360, after.Produced);
        Assert.Equal(0, after.Dropped);
        Assert.Equal(after.Produced, after.Persisted);
        Assert.Equal(0, after.Retrying);

        // The restarted master kept what it acknowledged (append-only file): what Redis holds is exactly what was counted.
        using var redis = await RedisStack.ConnectAsync(cluster.ConnectionString);
        var db = redis.GetDatabase();
        Assert.Equal(after.Persisted, await stack.CountDistinctSpansAsync(db));
        await IndexedAsync(stack, db);
    }

    [Fact]
    public async Task A_shards_slot_moved_to_another_master_while_writing_loses_nothing()
    {
        var prefix = RedisStack.NewPrefix();
        await using var stack = await RedisStack.StartAsync(cluster.ConnectionString, prefix, "web-a", o => o.Shards = 3);
        var shard = stack.Layout[0];
        var source = await cluster.MasterOfSlotAsync(shard.Slot);
        var target = (source + 1) % RedisCluster.MasterCount;
        var slot = shard.Slot.ToString(CultureInfo.InvariantCulture);

        using var stop = new CancellationTokenSource();
        var written = 0;
        var writing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                // At most a few thousand spans waiting: a steady app's pace, never one that overruns the writer's queue.
                if (stack.Writer.GetStats().Waiting > 3_000)
                {
                    await Task.Delay(1);
                    continue;
                }

                await stack.Store.AddAsync(TestSpans.Traces("web-a", 4, 3));
                written += 12;
            }
        });

        await Eventually.WaitUntilAsync(() => stack.Writer.Shards[0].GetStats().Persisted > 100, s_timeout, "the shard is being written");
        // Moved the way redis-cli --cluster reshard moves a slot: importing, migrating, the keys, then the owner.
        var sourceId = await cluster.NodeIdAsync(source);
        var targetId = await cluster.NodeIdAsync(target);
        await cluster.NodeCommandAsync(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", sourceId);
        await cluster.NodeCommandAsync(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", targetId);
        while ((await cluster.NodeCommandAsync(source, "CLUSTER", "GETKEYSINSLOT", slot, "100")).Split('\n', StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } keys)
        {
            await cluster.NodeCommandAsync(source, ["MIGRATE", "127.0.0.1", cluster.Nodes[target].Port.ToString(CultureInfo.InvariantCulture), "", "0", "5000", "KEYS", .. keys]);
        }

        foreach (var node in new[] { target, source }.Concat(Enumerable.Range(0, RedisCluster.MasterCount).Except([target, source])))
        {
            await cluster.NodeCommandAsync(node, "CLUSTER", "SETSLOT", slot, "NODE", targetId);
        }

        // Writes go on to the new owner (redirected by MOVED/ASK), then stop.
                var persistedAtMove = stack.Writer.Shards[0].GetStats().Persisted;
        await Eventually.WaitUntilAsync(() => stack.Writer.Shards[0].GetStats().Persisted > persistedAtMove + 100, s_timeout, "the shard is written after the move");
        await stop.CancelAsync();
        await writing;
        await stack.FlushedAsync(s_timeout);

        Assert.Equal(target, await cluster.MasterOfSlotAsync(shard.Slot));
        Assert.Contains(shard.StreamKey, (await cluster.NodeCommandAsync(target, "KEYS", prefix + ":*")).Split('\n'));
        Assert.DoesNotContain(shard.StreamKey, (await cluster.NodeCommandAsync(source, "KEYS", prefix + ":*")).Split('\n'));
        var stats = stack.Writer.GetStats();
        Assert.Equal(written, stats.Produced);
        Assert.Equal(0, stats.Dropped);
        Assert.Equal(stats.Produced, stats.Persisted);
        using var redis = await RedisStack.ConnectAsync(cluster.ConnectionString);
        var db = redis.GetDatabase();
        Assert.Equal(stats.Persisted, await stack.CountDistinctSpansAsync(db));
        await IndexedAsync(stack, db);
    }

    /// <summary>Waits until each shard's consumer group has no entry left to deliver or to acknowledge.</summary>
    private static Task IndexedAsync(RedisStack stack, IDatabase db) =>
        Eventually.WaitUntilAsync(async () =>
        {
            foreach (var shard in stack.Layout.Shards)
            {
                var group = (await db.StreamGroupInfoAsync(shard.StreamKey)).Single(g => g.Name == RedisStreamsOptions.DefaultConsumerGroupName);
                if (group.PendingMessageCount != 0 || group.Lag is not 0)
                {
                    return false;
                }
            }

            return true;
        }, s_timeout, "every shard's entries indexed and acknowledged");
}
