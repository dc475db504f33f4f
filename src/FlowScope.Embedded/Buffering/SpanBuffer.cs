using System.Diagnostics;
using System.Threading.Channels;

namespace FlowScope.Embedded.Buffering;

/// <summary>
/// The bounded hand-off between the request path and the pump. Writers only ever call <see cref="TryWrite"/>:
/// a full buffer drops the span and counts it, it never blocks. The stopped <see cref="Activity"/> itself is
/// queued (no copy on the request path); the pump turns it into a <see cref="Storage.SpanRecord"/>.
/// </summary>
internal sealed class SpanBuffer
{
    private readonly Channel<Activity> _channel;
    private long _dropped;
    private long _accepted;

    public SpanBuffer(int capacity)
    {
        Capacity = capacity;
        _channel = Channel.CreateBounded<Activity>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // with Wait, TryWrite fails fast when full: we count the drop
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
    }

    public int Capacity { get; }

    /// <summary>Gets the spans dropped because the buffer was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Gets the spans the pump has taken out of the buffer.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Gets the spans waiting in the buffer.</summary>
    public int Count => _channel.Reader.Count;

    /// <summary>Raised (at most once per drop burst is up to the handler) when a span is dropped.</summary>
    public event Action? SpanDropped;

    public bool TryWrite(Activity activity)
    {
        if (_channel.Writer.TryWrite(activity))
        {
            return true;
        }

        Interlocked.Increment(ref _dropped);
        SpanDropped?.Invoke();
        return false;
    }

    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) => _channel.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>Takes up to <paramref name="max"/> waiting activities. Single reader only.</summary>
    public int Drain(List<Activity> into, int max)
    {
        var n = 0;
        while (n < max && _channel.Reader.TryRead(out var activity))
        {
            into.Add(activity);
            n++;
        }

        if (n > 0)
        {
            Interlocked.Add(ref _accepted, n);
        }

        return n;
    }

    public void Complete() => _channel.Writer.TryComplete();
}
