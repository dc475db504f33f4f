// ActivityListeners are process-wide: a capture test would also see activities other tests create.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace FlowScope.Embedded.Tests;

/// <summary>Waits for a condition with a bounded timeout instead of sleeping for a guessed time.</summary>
internal static class Eventually
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    public static async Task TrueAsync(Func<bool> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Condition not met within {(timeout ?? DefaultTimeout).TotalSeconds} s. {because}");
            }

            await Task.Delay(PollInterval);
        }
    }
}
