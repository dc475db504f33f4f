using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Capture;

/// <summary>The log entries written while the request runs, each under the stage running then (or the request).</summary>
internal sealed partial class HttpRequestInfo
{
    // Created by the first log entry only: most requests log nothing FlowScope records, so no lock is allocated.
    private Lock? _eventsLock;
    private List<SpanEvent>? _rootEvents;

    private Lock EventsLock => Volatile.Read(ref _eventsLock) ?? Interlocked.CompareExchange(ref _eventsLock, new Lock(), null) ?? _eventsLock!;

    /// <summary>Adds a log entry to the stage running now (or the request). Any thread; capped.</summary>
    public bool AddEvent(SpanEvent spanEvent)
    {
        lock (EventsLock)
        {
            var stageIndex = _current;
            if (stageIndex >= 0 && stageIndex < _stageCount)
            {
                ref var details = ref DetailsOf(stageIndex);
                details.Events ??= new List<SpanEvent>(2);
                if (details.Events.Count >= _maxEvents)
                {
                    return false;
                }

                details.Events.Add(spanEvent);
                return true;
            }

            _rootEvents ??= new List<SpanEvent>(2);
            if (_rootEvents.Count >= _maxEvents)
            {
                return false;
            }

            _rootEvents.Add(spanEvent);
            return true;
        }
    }

    public IReadOnlyList<SpanEvent>? RootEvents
    {
        get
        {
            if (Volatile.Read(ref _eventsLock) is not { } gate)
            {
                return null;
            }

            lock (gate)
            {
                return _rootEvents is null ? null : [.. _rootEvents];
            }
        }
    }

    public IReadOnlyList<SpanEvent>? StageEvents(int index)
    {
        if (Volatile.Read(ref _eventsLock) is not { } gate)
        {
            return null;
        }

        lock (gate)
        {
            var events = GetDetails(index).Events;
            return events is null ? null : [.. events];
        }
    }
}
