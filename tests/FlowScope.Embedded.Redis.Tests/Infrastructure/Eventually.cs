namespace FlowScope.Embedded.Redis.Tests.Infrastructure;

/// <summary>Polls a condition until it holds or a bounded timeout passes: tests wait for results, never sleep.</summary>
public static class Eventually
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(20);

    public static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string? because = null) =>
        WaitUntilAsync(() => Task.FromResult(condition()), timeout, because);

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string? because = null)
    {
        if (!await TryWaitUntilAsync(condition, timeout))
        {
            throw new TimeoutException($"Condition not met within {timeout}: {because ?? "(no description)"}.");
        }
    }

    public static async Task<bool> TryWaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition())
            {
                return true;
            }

            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(s_interval);
        }
    }
}
