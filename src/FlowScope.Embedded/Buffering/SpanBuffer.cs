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

    // The reader waits for spans on this monitor (1 in _readerWaiting while it does) and writers pulse it only then:
    // the pump waits with a thread of its own, never through the thread pool, so a starved pool cannot stall it.
    private readonly object _readerGate = new();
    private int _readerWaiting;

    /// <summary>The longest the reader sleeps without a wake-up before it looks at the buffer again (a backstop).</summary>
    private static readonly TimeSpan MaxReaderSleep = TimeSpan.FromSeconds(1);

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

    /// <summary>Gets the spans dropped because the buffer was full (a request's stages included).</summary>
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
            // The channel's lock orders this read after the item is in (see WaitToRead); a wake-up costs a system
            // call, so it is only made while the reader sleeps.
            if (Volatile.Read(ref _readerWaiting) != 0)
            {
                WakeReader();
            }

            return true;
        }

        Interlocked.Add(ref _dropped, SpanCountOf(activity));
        SpanDropped?.Invoke();
        return false;
    }

    /// <summary>The spans an activity stands for: itself and, for a request, its pipeline stages.</summary>
    internal static int SpanCountOf(Activity activity) =>
        1 + (Capture.HttpRequestInfo.Get(activity) is Capture.HttpRequestInfo http ? Math.Min(http.StageCount, Storage.Encoding.PayloadLayout.MaxStages) : 0);

    /// <summary>
    /// Blocks the (single) reader until spans are waiting (<see langword="true"/>) or the buffer is completed and
    /// empty (<see langword="false"/>). Throws <see cref="OperationCanceledException"/> when cancelled.
    /// </summary>
    public bool WaitToRead(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (Count > 0)
            {
                return true;
            }

            // Completed and drained: the channel's reader completes once the writer has and the last span is read.
            if (_channel.Reader.Completion.IsCompleted)
            {
                return false;
            }

            cancellationToken.ThrowIfCancellationRequested();
            lock (_readerGate)
            {
                // Announce the wait, then look again: Count takes the channel's lock, which a writer takes before it
                // reads _readerWaiting, so either this look sees the writer's span or the writer sees the flag and
                // pulses (after this thread has released the gate by waiting on it).
                Interlocked.Exchange(ref _readerWaiting, 1);
                if (Count == 0 && !_channel.Reader.Completion.IsCompleted && !cancellationToken.IsCancellationRequested)
                {
                    Monitor.Wait(_readerGate, MaxReaderSleep);
                }

                Volatile.Write(ref _readerWaiting, 0);
            }
        }
    }

    /// <summary>Wakes the reader if it waits in <see cref="WaitToRead"/> (a writer's span, completion, cancellation).</summary>
    public void WakeReader()
    {
        lock (_readerGate)
        {
            Monitor.PulseAll(_readerGate);
        }
    }

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

    public void Complete()
    {
        _channel.Writer.TryComplete();
        WakeReader();
    }
}
