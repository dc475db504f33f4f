using StackExchange.Redis;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// The cross-instance wake-up: writers publish on <c>{prefix}:spans:new</c> after writing (any shard), and the reader and the
/// consumer loop wait for it (StackExchange.Redis has no blocking XREAD). Subscribing is retried until it works;
/// the loops poll meanwhile, so a lost message or a missing subscription only costs latency.
/// </summary>
internal sealed class RedisWakeUp(RedisConnection connection, string channel, TimeProvider time)
{
    private TaskCompletionSource _next = NewSource();
    private int _subscribed;

    public bool IsSubscribed => Volatile.Read(ref _subscribed) == 1;

    public void Notify() => Interlocked.Exchange(ref _next, NewSource()).TrySetResult();

    /// <summary>Takes the next wake-up before looking for work, so one arriving in between is not missed.</summary>
    public Task NextAsync() => Volatile.Read(ref _next).Task;

    public async Task EnsureSubscribedAsync()
    {
        if (IsSubscribed)
        {
            return;
        }

        var multiplexer = await connection.GetAsync().ConfigureAwait(false);
        if (!multiplexer.IsConnected)
        {
            return;
        }

        try
        {
            await multiplexer.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel), (_, _) => Notify()).ConfigureAwait(false);
            Volatile.Write(ref _subscribed, 1);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Polling covers it; the next loop round tries again.
        }
    }

    /// <summary>Waits for the wake-up or the poll interval, whichever comes first.</summary>
    public async Task WaitAsync(Task wake, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(pollInterval, time, cancel.Token);
        await Task.WhenAny(wake, delay).ConfigureAwait(false);
        await cancel.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
