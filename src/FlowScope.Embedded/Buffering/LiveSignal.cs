namespace FlowScope.Embedded.Buffering;

/// <summary>
/// Wakes live-stream connections when the store changed. Each connection keeps its own position (a store version)
/// and reads the changes itself, so no per-connection queue can grow and nothing is lost while the store holds it.
/// </summary>
internal sealed class LiveSignal
{
    private TaskCompletionSource _next = NewSource();

    /// <summary>Gets a task that completes at the next <see cref="Notify"/>.</summary>
    public Task WaitAsync() => Volatile.Read(ref _next).Task;

    public void Notify() => Interlocked.Exchange(ref _next, NewSource()).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
