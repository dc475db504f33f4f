using System.Globalization;
using System.Text;

namespace FlowScope.Embedded.Redis.Sharding;

/// <summary>
/// Where FlowScope's data lives in Redis. One shard keeps the original layout: <c>{prefix}:spans</c> and
/// <c>{prefix}:index:*</c>. N shards each get a hash tag, <c>{prefix}:{iofN-k}:spans</c> and
/// <c>{prefix}:{iofN-k}:index:*</c>, whose hash slot lies in the middle of the i-th of N equal parts of the
/// cluster's 16 384 slots (<c>k</c>, the first number that puts it there, only chooses the slot). A cluster that
/// splits its slots evenly between its masters, as <c>redis-cli --cluster create</c> does, so holds shard i on master
/// ⌊i·masters/N⌋: N shards on N masters is one shard per master. A trace belongs to shard
/// <c>FNV-1a-32(UTF-8 trace id) mod N</c>, whichever instance wrote it.
/// </summary>
internal sealed class RedisKeyLayout
{
    private const uint FnvOffset = 2_166_136_261;
    private const uint FnvPrime = 16_777_619;

    private readonly RedisShardKeys[] _shards;

    public RedisKeyLayout(string keyPrefix, int shardCount)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyPrefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        KeyPrefix = keyPrefix;
        WakeUpChannel = keyPrefix + ":spans:new";
        _shards = new RedisShardKeys[shardCount];
        for (var i = 0; i < shardCount; i++)
        {
            _shards[i] = new RedisShardKeys(i, shardCount == 1 ? null : Tag(i, shardCount), keyPrefix);
        }
    }

    public string KeyPrefix { get; }

    /// <summary>Gets the pub/sub channel writers publish on after a write (one for all shards; channels have no slot).</summary>
    public string WakeUpChannel { get; }

    public int Count => _shards.Length;

    public IReadOnlyList<RedisShardKeys> Shards => _shards;

    public RedisShardKeys this[int shard] => _shards[shard];

    /// <summary>Gets the shard that holds a trace.</summary>
    public RedisShardKeys For(string traceId) => _shards[ShardOf(traceId, _shards.Length)];

    /// <summary>Gets the number of the shard that holds a trace: FNV-1a (32 bit) of the trace id's UTF-8 bytes, modulo the shard count.</summary>
    public static int ShardOf(string traceId, int shardCount)
    {
        if (shardCount == 1)
        {
            return 0;
        }

        var hash = FnvOffset;
        foreach (var c in traceId)
        {
            if (c < 0x80)
            {
                hash = (hash ^ c) * FnvPrime;
            }
            else
            {
                return ShardOfNonAscii(traceId, shardCount);
            }
        }

        return (int)(hash % (uint)shardCount);
    }

    /// <summary>As <see cref="ShardOf(string, int)"/> for a trace id as the encoded form holds it (its 16 bytes).</summary>
    public static int ShardOf(System.Diagnostics.ActivityTraceId traceId, int shardCount)
    {
        if (shardCount == 1)
        {
            return 0;
        }

        Span<byte> bytes = stackalloc byte[16];
        traceId.CopyTo(bytes);
        Span<char> text = stackalloc char[32];
        Convert.TryToHexStringLower(bytes, text, out _);
        var hash = FnvOffset;
        foreach (var c in text)
        {
            hash = (hash ^ c) * FnvPrime;
        }

        return (int)(hash % (uint)shardCount);
    }

    private static int ShardOfNonAscii(string traceId, int shardCount)
    {
        var hash = FnvOffset;
        foreach (var b in Encoding.UTF8.GetBytes(traceId))
        {
            hash = (hash ^ b) * FnvPrime;
        }

        return (int)(hash % (uint)shardCount);
    }

    /// <summary>
    /// The hash tag of shard <paramref name="shard"/> of <paramref name="count"/>: <c>{shard}of{count}-{k}</c> for the
    /// first k ≥ 0 whose slot lies within an eighth of a part around the middle of the shard's part of the slots.
    /// </summary>
    internal static string Tag(int shard, int count)
    {
        var part = (double)RedisHashSlot.SlotCount / count;
        var middle = part * (shard + 0.5);
        var reach = Math.Max(1, part / 8);
        for (var k = 0; ; k++)
        {
            var tag = string.Create(CultureInfo.InvariantCulture, $"{shard}of{count}-{k}");
            if (Math.Abs(RedisHashSlot.Of(Encoding.ASCII.GetBytes(tag)) - middle) <= reach)
            {
                return tag;
            }
        }
    }
}
