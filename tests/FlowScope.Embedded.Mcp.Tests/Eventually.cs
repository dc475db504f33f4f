namespace FlowScope.Embedded.Mcp.Tests;

/// <summary>Waits for a condition with a bounded timeout instead of sleeping for a guessed time.</summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, Func<string>? because = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Condition not met within {limit.TotalSeconds} s. {because?.Invoke()}");
            }

            await Task.Delay(PollInterval);
        }
    }
}
