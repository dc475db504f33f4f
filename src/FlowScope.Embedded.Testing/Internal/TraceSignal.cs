namespace FlowScope.Embedded.Testing.Internal;

/// <summary>A broadcast "the store changed": each waiter takes <see cref="Next"/> before it reads, then awaits it.</summary>
internal sealed class TraceSignal
{
    private TaskCompletionSource _next = NewSource();

    /// <summary>Gets a task that completes at the next <see cref="Notify"/>.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Notify() => Interlocked.Exchange(ref _next, NewSource()).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
