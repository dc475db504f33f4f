namespace FlowScope.Embedded.Workers.Internal;

/// <summary>Every worker FlowScope knows: the app's hosted services and any type that reports units of work.</summary>
internal sealed class WorkerRegistry
{
    private readonly Lock _lock = new();
    private readonly List<WorkerState> _workers = [];
    private readonly Dictionary<Type, WorkerState> _byType = [];
    private readonly TimeProvider _time;

    public WorkerRegistry(TimeProvider time)
    {
        _time = time;
    }

    /// <summary>Gets the state of a hosted service instance, creating it on first sight.</summary>
    public WorkerState Track(object service)
    {
        var type = service.GetType();
        lock (_lock)
        {
            foreach (var existing in _workers)
            {
                if (ReferenceEquals(existing.Instance, service))
                {
                    return existing;
                }
            }

            if (_byType.TryGetValue(type, out var state) && state.Instance is null)
            {
                state.Instance = service;
                return state;
            }

            // A further instance of a type already tracked gets a numbered name.
            var name = state is null ? DisplayName(type) : $"{DisplayName(type)}#{_workers.Count(w => w.Type == type) + 1}";
            var added = new WorkerState(name, type, _time) { Instance = service };
            _workers.Add(added);
            _byType.TryAdd(type, added);
            return added;
        }
    }

    /// <summary>Gets the state of the worker of a type (the first instance), creating it on first sight.</summary>
    public WorkerState ForType(Type type)
    {
        lock (_lock)
        {
            if (!_byType.TryGetValue(type, out var state))
            {
                state = new WorkerState(DisplayName(type), type, _time);
                _workers.Add(state);
                _byType.Add(type, state);
            }

            return state;
        }
    }

    /// <summary>Gets every worker's state now, in the order they became known.</summary>
    public IReadOnlyList<WorkerSnapshot> Snapshot()
    {
        WorkerState[] workers;
        lock (_lock)
        {
            workers = [.. _workers];
        }

        var result = new WorkerSnapshot[workers.Length];
        for (var i = 0; i < workers.Length; i++)
        {
            result[i] = workers[i].Snapshot();
        }

        return result;
    }

    internal static string DisplayName(Type type)
    {
        var name = type.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return tick < 0 ? name : name[..tick];
    }
}
