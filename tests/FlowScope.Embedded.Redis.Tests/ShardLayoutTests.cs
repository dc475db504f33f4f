using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Redis.Sharding;

namespace FlowScope.Embedded.Redis.Tests;

public class ShardLayoutTests
{
    [Fact]
    public void One_shard_keeps_the_keys_without_a_hash_tag()
    {
        var layout = new RedisKeyLayout("shop", 1);

        var shard = Assert.Single(layout.Shards);
        Assert.Null(shard.Tag);
        Assert.Equal("shop:spans", shard.StreamKey);
        Assert.Equal("shop:index:trace:abc", shard.TraceKey("abc"));
        Assert.Equal("shop:index:components", shard.ComponentsKey);
        Assert.Equal("shop:index:traces", shard.TracesByStartKey);
        Assert.Equal("shop:index:done:run-1", shard.DoneKey("run-1"));
        Assert.Equal("shop:spans:new", layout.WakeUpChannel);
    }

    [Fact]
    public void Each_shard_has_a_tag_in_the_middle_of_its_part_of_the_slots()
    {
        for (var count = 2; count <= RedisStreamsOptions.MaxShards; count++)
        {
            var layout = new RedisKeyLayout("flowscope", count);
            var part = 16_384.0 / count;
            foreach (var shard in layout.Shards)
            {
                Assert.StartsWith($"{shard.Index}of{count}-", shard.Tag, StringComparison.Ordinal);
                Assert.Equal($"flowscope:{{{shard.Tag}}}:spans", shard.StreamKey);
                Assert.InRange(shard.Slot, part * (shard.Index + 0.25), part * (shard.Index + 0.75));
                Assert.Equal(shard.Slot, RedisHashSlot.Of(shard.TraceKey("x")));
                Assert.Equal(shard.Slot, RedisHashSlot.Of(shard.DoneKey("y")));
            }
        }

        // With three masters splitting the slots evenly (redis-cli's ranges), three shards take one master each. The
        // tags and slots are the ones docs/redis.md names.
        Assert.Equal(["0of3-41", "1of3-1", "2of3-13"], new RedisKeyLayout("p", 3).Shards.Select(s => s.Tag));
        Assert.Equal([2894, 8831, 13338], new RedisKeyLayout("p", 3).Shards.Select(s => s.Slot));
        Assert.Equal([0, 1, 2], new RedisKeyLayout("p", 3).Shards.Select(s => s.Slot switch { <= 5460 => 0, <= 10922 => 1, _ => 2 }));
    }

    [Fact]
    public void A_trace_goes_to_the_shard_its_id_hashes_to_with_FNV_1a()
    {
        // Expected values computed independently: FNV-1a 32-bit of the UTF-8 id, modulo the shard count.
        Assert.Equal(1, RedisKeyLayout.ShardOf("4bf92f3577b34da6a3ce929d0e0e4736", 3));
        Assert.Equal(2, RedisKeyLayout.ShardOf("4bf92f3577b34da6a3ce929d0e0e4736", 16));
        Assert.Equal(0, RedisKeyLayout.ShardOf("0af7651916cd43dd8448eb211c80319c", 3));
        Assert.Equal(5, RedisKeyLayout.ShardOf("0af7651916cd43dd8448eb211c80319c", 16));
        Assert.Equal(0, RedisKeyLayout.ShardOf("4bf92f3577b34da6a3ce929d0e0e4736", 1));
        Assert.Equal(RedisKeyLayout.ShardOf("trace-é", 7), RedisKeyLayout.ShardOf(new string("trace-é".ToCharArray()), 7));

        // Random ids spread evenly.
        var counts = new int[4];
        for (var i = 0; i < 40_000; i++)
        {
            counts[RedisKeyLayout.ShardOf(System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString(), 4)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 9_000, 11_000));
    }

    [Theory]
    [InlineData(0, "flowscope", "FlowScope:Redis:Shards must be between 1 and 64.")]
    [InlineData(65, "flowscope", "FlowScope:Redis:Shards must be between 1 and 64.")]
    [InlineData(3, "{flowscope}", "FlowScope:Redis:KeyPrefix must not contain '{' or '}' when Shards is more than 1")]
    public void Invalid_shard_settings_name_the_setting(int shards, string prefix, string message)
    {
        var result = new RedisStreamsOptionsValidator().Validate(null, new RedisStreamsOptions { ConnectionString = "localhost", Shards = shards, KeyPrefix = prefix });

        Assert.True(result.Failed);
        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hash_tagged_prefix_stays_valid_with_one_shard()
    {
        Assert.True(new RedisStreamsOptionsValidator().Validate(null, new RedisStreamsOptions { ConnectionString = "localhost", KeyPrefix = "{flowscope}" }).Succeeded);
    }
}
