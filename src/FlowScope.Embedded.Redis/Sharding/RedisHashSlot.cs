using System.Text;

namespace FlowScope.Embedded.Redis.Sharding;

/// <summary>
/// The Redis Cluster hash slot of a key, as the cluster computes it: CRC16 (XMODEM: polynomial 0x1021, initial value
/// 0) of the key's UTF-8 bytes modulo 16 384, where only the hash tag is hashed when the key has one (the text
/// between the first <c>{</c> and the first <c>}</c> after it, when that text is not empty).
/// </summary>
internal static class RedisHashSlot
{
    /// <summary>The number of hash slots of a Redis Cluster.</summary>
    public const int SlotCount = 16_384;

    private static readonly ushort[] s_table = CreateTable();

    public static int Of(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var bytes = Encoding.UTF8.GetBytes(key);
        return Of(HashedPart(bytes));
    }

    public static int Of(ReadOnlySpan<byte> hashed)
    {
        ushort crc = 0;
        foreach (var b in hashed)
        {
            crc = (ushort)((crc << 8) ^ s_table[((crc >> 8) ^ b) & 0xFF]);
        }

        return crc & (SlotCount - 1);
    }

    private static ReadOnlySpan<byte> HashedPart(ReadOnlySpan<byte> key)
    {
        var open = key.IndexOf((byte)'{');
        if (open < 0)
        {
            return key;
        }

        var close = key[(open + 1)..].IndexOf((byte)'}');
        return close <= 0 ? key : key.Slice(open + 1, close);
    }

    private static ushort[] CreateTable()
    {
        var table = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var value = (ushort)(i << 8);
            for (var bit = 0; bit < 8; bit++)
            {
                value = (value & 0x8000) != 0 ? (ushort)((value << 1) ^ 0x1021) : (ushort)(value << 1);
            }

            table[i] = value;
        }

        return table;
    }
}
