namespace FlowScope.Samples.Messenger.Tests;

/// <summary>Waits for a condition with a bounded timeout instead of sleeping for a guessed time.</summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(25);

    public static async Task<T> ValueAsync<T>(Func<Task<T?>> probe, TimeSpan? timeout = null, string because = "")
        where T : class
    {
        var limit = timeout ?? DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Condition not met within {limit.TotalSeconds} s. {because}");
            }

            await Task.Delay(PollInterval);
        }
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string because = "")
    {
        await ValueAsync<object>(async () => await condition() ? new object() : null, timeout, because);
    }
}
