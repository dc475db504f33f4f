using FlowScope.Embedded.Queues.Internal;

namespace FlowScope.Embedded.Tests.Instrumentation;

public sealed class MessageIdTests
{
    [Fact]
    public void Message_ids_are_32_hex_digits_unique_and_in_send_order_across_threads()
    {
        const int perThread = 20_000;
        var ids = new string[4][];
        Parallel.For(0, ids.Length, t =>
        {
            ids[t] = new string[perThread];
            for (var i = 0; i < perThread; i++)
            {
                ids[t][i] = MessageIds.Next();
            }
        });

        var all = ids.SelectMany(x => x).ToArray();
        Assert.Equal(all.Length, all.Distinct(StringComparer.Ordinal).Count());
        Assert.All(all, id => Assert.Matches("^[0-9a-f]{32}$", id));
        // One process: the same random first half, and each thread's ids rise in the order it sent them.
        Assert.Single(all.Select(id => id[..16]).Distinct());
        Assert.All(ids, thread => Assert.Equal(thread.Order(StringComparer.Ordinal), thread));
    }
}
