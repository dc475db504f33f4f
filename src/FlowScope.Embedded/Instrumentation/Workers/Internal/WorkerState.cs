namespace FlowScope.Embedded.Workers.Internal;

/// <summary>The live state of one worker. Thread-safe: units of work, the host and the observer all update it.</summary>
internal sealed class WorkerState
{
    internal const int MaxErrorDetailLength = 4_096;

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private string _state = WorkerStates.Idle;
    private DateTimeOffset _stateChangedAt;
    private DateTimeOffset? _startedAt;
    private DateTimeOffset? _lastRunAt;
    private long _runs;
    private long _errors;
    private string? _lastError;
    private string? _lastErrorDetail;
    private int _active;

    public WorkerState(string name, Type type, TimeProvider time)
    {
        Name = name;
        Type = type;
        _time = time;
        _stateChangedAt = time.GetUtcNow();
    }

    public string Name { get; }

    public Type Type { get; }

    /// <summary>Gets or sets the hosted service instance this state observes, when it is one.</summary>
    public object? Instance { get; set; }

    public string State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    private bool IsFinal => _state is WorkerStates.Faulted or WorkerStates.Stopped;

    public void Starting()
    {
        lock (_lock)
        {
            Set(WorkerStates.Starting);
        }
    }

    public void Started()
    {
        lock (_lock)
        {
            _startedAt = _time.GetUtcNow();
            if (_state == WorkerStates.Starting)
            {
                Set(_active > 0 || _runs == 0 ? WorkerStates.Running : WorkerStates.Idle);
            }
        }
    }

    public void Faulted(Exception exception)
    {
        lock (_lock)
        {
            _errors++;
            RecordError(exception);
            Set(WorkerStates.Faulted);
        }
    }

    public void Stopped()
    {
        lock (_lock)
        {
            if (_state != WorkerStates.Faulted)
            {
                Set(WorkerStates.Stopped);
            }
        }
    }

    public void BeginUnit()
    {
        lock (_lock)
        {
            _active++;
            _lastRunAt = _time.GetUtcNow();
            if (!IsFinal)
            {
                Set(WorkerStates.Running);
            }
        }
    }

    public void EndUnit(Exception? error)
    {
        lock (_lock)
        {
            _active = Math.Max(0, _active - 1);
            _runs++;
            if (error is not null)
            {
                _errors++;
                RecordError(error);
            }

            if (_active == 0 && _state == WorkerStates.Running)
            {
                Set(WorkerStates.Idle);
            }
        }
    }

    public WorkerSnapshot Snapshot()
    {
        lock (_lock)
        {
            return new WorkerSnapshot(Name, Type.FullName ?? Type.Name, _state, _startedAt, _lastRunAt, _runs, _errors, _lastError, _stateChangedAt, _active, _lastErrorDetail, Instance is not null);
        }
    }

    private void RecordError(Exception exception)
    {
        _lastError = $"{exception.GetType().FullName}: {exception.Message}";
        var detail = exception.ToString();
        _lastErrorDetail = detail.Length <= MaxErrorDetailLength ? detail : detail[..MaxErrorDetailLength];
    }

    private void Set(string state)
    {
        if (_state != state)
        {
            _state = state;
            _stateChangedAt = _time.GetUtcNow();
        }
    }
}
