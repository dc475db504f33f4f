using System.Security.Cryptography;

namespace FlowScope.Embedded.Queues.Internal;

/// <summary>
/// Ids for in-process queue messages: 32 hex digits, a random number drawn once per process followed by a counter.
/// Unique within the process by construction and across processes (instances sharing one Redis history) by the
/// 64-bit random part; in the order messages were sent within a process. A new random GUID per message asked the
/// operating system for random bytes every time, a visible part of each message's cost.
/// </summary>
internal static class MessageIds
{
    private static readonly ulong s_process = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
    private static long s_counter;

    public static string Next()
    {
        var sequence = (ulong)Interlocked.Increment(ref s_counter);
        return string.Create(32, sequence, static (chars, value) =>
        {
            s_process.TryFormat(chars, out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
            value.TryFormat(chars[16..], out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
        });
    }
}
