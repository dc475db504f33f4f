using System.Globalization;
using FlowScope.Embedded.Storage.Encoding;
using FlowScope.Embedded.Storage.Memory;
using static FlowScope.Embedded.Storage.Memory.RouteTable;

namespace FlowScope.Embedded.Storage;

/// <summary>
/// The default store: every span in its encoded form (<see cref="SpanBatch"/>) in a ring of large byte segments,
/// indexed by one plain struct per trace (<see cref="TraceTable"/>), within a memory cap in bytes. Nothing per trace
/// or per span is an object, so the store costs the app's garbage collector nothing however full it is. When the cap
/// is reached the oldest segment is emptied: traces changed recently are copied forward, the others evicted (and
/// counted). One lock guards everything: writes come from the single pump in batches; readers decode what they return.
/// </summary>
internal sealed class InMemoryTraceStore : ITraceStore
{
    /// <summary>The smallest memory cap: 8 MB.</summary>
    public const long MinCapacityBytes = 8L * 1024 * 1024;

    private const int MinSegmentSize = 512 * 1024;
    private const int MaxSegmentSize = 4 * 1024 * 1024;

    private readonly Lock _lock = new();
    private readonly long _capacityBytes;
    private readonly int _maxSpansPerTrace;
    private readonly int _maxTraces;
    private readonly SegmentRing _ring;
    private readonly TraceTable _table = new();
    private readonly ComponentTable _components = new();
    private readonly RecentEvictions _evictions = new();
    private readonly RouteTable _routes;
    private readonly RetentionOptions _retention;
    private readonly long[] _retainedBytes = new long[4];
    private readonly long[] _retainedBudget = new long[4];
    private readonly Dictionary<int, bool> _decided = new();
    private readonly byte[] _survivors;
    private readonly long _fixedBytes;
    private readonly List<(int Block, int Offset, int Length)> _survivorBlocks = [];

    private long _version;
    private long _storedSpans;
    private long _evictedTraces;
    private long _evictedSpans;
    private long _rejectedSpans;

    /// <summary>Creates a store capped at <paramref name="capacityBytes"/> (segments and index together).</summary>
    /// <param name="capacityBytes">The memory cap; at least <see cref="MinCapacityBytes"/>.</param>
    /// <param name="maxSpansPerTrace">Spans one trace keeps; further ones are rejected and counted.</param>
    /// <param name="maxTraces">A secondary limit on the number of traces (0: none); the least recently changed goes first.</param>
    /// <param name="retention">What to keep beyond the newest traces; the defaults when <see langword="null"/>.</param>
    public InMemoryTraceStore(long capacityBytes, int maxSpansPerTrace, int maxTraces = 0, RetentionOptions? retention = null)
        : this(capacityBytes, maxSpansPerTrace, maxTraces, SegmentSizeFor(capacityBytes), retention)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBytes, MinCapacityBytes);
    }

    /// <summary>A store with a given segment size (tests use small ones to reach the cap with few spans).</summary>
    internal InMemoryTraceStore(long capacityBytes, int maxSpansPerTrace, int maxTraces, int segmentSize, RetentionOptions? retention = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSpansPerTrace, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTraces);
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentSize, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBytes, 4L * segmentSize);
        _capacityBytes = capacityBytes;
        _maxSpansPerTrace = maxSpansPerTrace;
        _maxTraces = maxTraces;
        _ring = new SegmentRing(segmentSize, (int)(capacityBytes / segmentSize));
        _survivors = new byte[segmentSize];
        _fixedBytes = _survivors.Length + RecentEvictions.Bytes;
        _retention = retention ?? new RetentionOptions();

        // Routes take at most about 3 % of the cap (2 048 routes at the default 32 MB).
        _routes = new RouteTable((int)Math.Min(RouteTable.MaxRoutes, capacityBytes / 32 / RouteTable.BytesPerRoute));
        _retainedBudget[(int)TraceRetention.Error] = (long)(capacityBytes * _retention.ErrorShare);
        _retainedBudget[(int)TraceRetention.Slow] = (long)(capacityBytes * _retention.SlowShare);
        _retainedBudget[(int)TraceRetention.Sampled] = (long)(capacityBytes * _retention.SampleShare);
    }

    /// <summary>Segments of about a 32nd of the cap, between 512 KB and 4 MB: emptying one frees a small share of history.</summary>
    internal static int SegmentSizeFor(long capacityBytes) =>
        (int)Math.Clamp(System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)Math.Max(1, capacityBytes / 32)) / 2, MinSegmentSize, MaxSegmentSize);

    /// <summary>The memory cap in bytes.</summary>
    public long CapacityBytes => _capacityBytes;

    // Everything the store holds: segments, index, and the fixed scratch for copying survivors and remembering evictions.
    private long MemoryBytes => _ring.Bytes + _table.Bytes + _routes.Bytes + _fixedBytes;

    public ValueTask AddAsync(SpanBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_lock)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                AddCore(batch.GetPayload(i));
            }

            while (_maxTraces > 0 && _table.Count > _maxTraces)
            {
                Evict(_table.Oldest);
            }
        }

        return ValueTask.CompletedTask;
    }

    private void AddCore(ReadOnlySpan<byte> data)
    {
        var payload = new SpanPayload(data);
        var spans = payload.SpanCount;
        var id = payload.TraceId;
        var slot = _table.Find(id);
        if (slot >= 0 && _table[slot].SpanCount + spans > _maxSpansPerTrace)
        {
            _table[slot].Rejected += spans;
            _rejectedSpans += spans;
            _table.Touch(slot, ++_version);
            return;
        }

        if (spans > _maxSpansPerTrace || !_ring.CanHold(data.Length))
        {
            // Not even an empty trace takes it.
            _rejectedSpans += spans;
            return;
        }

        // Room first: making room can evict traces, this one included.
        MakeRoom(data.Length, newTrace: slot < 0);
        slot = _table.Find(id);
        if (slot < 0)
        {
            slot = _table.Add(id, ++_version);
        }
        else
        {
            _table.Touch(slot, ++_version);
        }

        var block = _table.AddBlock(slot, -1);
        _table.Block(block).Position = _ring.Append(data, block);
        _storedSpans += spans;
        Summarize(ref _table[slot], payload, block, SegmentRing.BlockHeaderSize + data.Length);
    }

    /// <summary>Folds a newly stored payload into its trace's slot.</summary>
    private void Summarize(ref TraceSlot slot, SpanPayload payload, int block, int bytes)
    {
        slot.Bytes += bytes;
        _retainedBytes[(int)slot.Retention] += bytes;
        slot.SpanCount += payload.SpanCount;
        slot.ErrorCount += payload.ErrorCount;
        slot.StartTicks = Math.Min(slot.StartTicks, payload.StartTicks);
        slot.EndTicks = Math.Max(slot.EndTicks, payload.EndTicks);
        slot.Components |= _components.BitOf(payload.Component);
        if (payload.StageCount > 0)
        {
            slot.Components |= ComponentTable.BitsOfStages(payload.StageComponents);

            // Stages lie within their request, but a clock step can put one a little outside.
            var stages = payload.StageCount <= 128 ? stackalloc StageEntry[payload.StageCount] : new StageEntry[payload.StageCount];
            payload.Stages().ReadEntries(stages, out _);
            foreach (var stage in stages)
            {
                slot.StartTicks = Math.Min(slot.StartTicks, stage.StartTicks);
                slot.EndTicks = Math.Max(slot.EndTicks, stage.EndTicks);
            }
        }

        // The root: a span without a local parent; until one comes, the earliest span.
        var isRoot = payload.IsRoot;
        var rootIsReal = (slot.Flags & TraceSlot.RootIsReal) != 0;
        if (slot.RootBlock < 0
            || (isRoot && !rootIsReal)
            || (isRoot == rootIsReal && payload.StartTicks < new SpanPayload(_ring.Payload(_table.Block(slot.RootBlock).Position)).StartTicks))
        {
            slot.RootBlock = block;
            slot.Flags = (byte)((slot.Flags & ~TraceSlot.RootIsReal) | (isRoot ? TraceSlot.RootIsReal : 0));
            SetRoute(ref slot, payload);
            slot.StatusCode = payload.TryGetAttribute(WellKnownStrings.NumberOf("http.response.status_code"), out var code)
                && ushort.TryParse(code.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var status) ? status : (ushort)0;
            slot.Kind = KindIndex(TraceKinds.Of(payload));
        }

        if (HasDatabaseMarks(payload))
        {
            slot.DatabaseCount += payload.CountOf(s_databaseCount);
            slot.NPlusOne = Math.Max(slot.NPlusOne, payload.CountOf(s_nPlusOne));
            slot.DuplicateQueries += payload.CountOf(s_duplicates);
        }
    }

    /// <summary>Counts the trace under its root's route (every trace the store is given counts as seen).</summary>
    private void SetRoute(ref TraceSlot slot, SpanPayload root)
    {
        var id = _routes.IdOf(root.Name);
        var route = _routes[id];
        route.NewestVersion = slot.Version;
        if (slot.Route == id)
        {
            return;
        }

        if (slot.Route >= 0)
        {
            LeaveRoute(ref slot);
        }

        slot.Route = id;
        route.Seen++;
        route.Held++;
        route.AddDuration(root.DurationTicks);
        if (slot.Retention == TraceRetention.Sampled)
        {
            route.Sampled++;
        }
    }

    private void LeaveRoute(ref TraceSlot slot)
    {
        var route = _routes[slot.Route];
        route.Held--;
        if (slot.Retention == TraceRetention.Sampled)
        {
            route.Sampled--;
        }
    }

    private static byte KindIndex(string kind)
    {
        for (var i = 0; i < TraceKinds.All.Count; i++)
        {
            if (ReferenceEquals(TraceKinds.All[i], kind))
            {
                return (byte)i;
            }
        }

        return (byte)(TraceKinds.All.Count - 1);
    }

    private static readonly int s_databaseCount = WellKnownStrings.NumberOf("flowscope.db.count");
    private static readonly int s_nPlusOne = WellKnownStrings.NumberOf("flowscope.db.n_plus_one");
    private static readonly int s_duplicates = WellKnownStrings.NumberOf("flowscope.db.duplicates");

    private static bool HasDatabaseMarks(SpanPayload payload) => payload.TryGetAttribute(s_databaseCount, out _);


    /// <summary>Makes sure the head segment takes a block of <paramref name="length"/> and the index a new trace and block.</summary>
    private void MakeRoom(int length, bool newTrace)
    {
        // The index grows by doubling; its memory comes out of the segments' share of the cap.
        while ((newTrace && _table.SlotsFull) || _table.BlocksFull)
        {
            var after = _table.BytesAfterGrowth(newTrace && _table.SlotsFull, _table.BlocksFull);
            if (after + _ring.Bytes + _fixedBytes <= _capacityBytes || !GiveUpSegment())
            {
                break; // grows on add (or nothing is left to give up)
            }
        }

        while (!_ring.FitsInHead(length))
        {
            if (_ring.HasRoomForSegment(int.MaxValue) && (_ring.HasSpare || MemoryBytes + _ring.SegmentSize <= _capacityBytes))
            {
                _ring.AddSegment();
            }
            else if (_ring.LiveCount > 0)
            {
                RecycleOldest(release: false);
                if (!_ring.FitsInHead(length))
                {
                    _ring.AddSegment(); // the emptied segment's array, now the head
                }
            }
            else
            {
                _ring.AddSegment(); // the cap cannot be below one segment
            }
        }
    }

    /// <summary>Frees one segment's memory for the index: a spare array, else the oldest segment (evicting its traces).</summary>
    private bool GiveUpSegment()
    {
        if (_ring.ReleaseSpare())
        {
            return true;
        }

        if (_ring.LiveCount <= 1)
        {
            return false;
        }

        RecycleOldest(release: true);
        return true;
    }

    /// <summary>
    /// Empties the oldest segment. A trace with a block there is kept (its blocks copied forward) when it changed in
    /// the newest quarter of the ring, or when retention keeps it (<see cref="Keeps"/>); every other such trace is
    /// evicted whole. Survivors take at most three quarters of the segment, so each recycling frees room.
    /// </summary>
    private void RecycleOldest(bool release)
    {
        var recentFrom = _ring.OldestSerial + Math.Max(1, _ring.LiveCount * 3 / 4);
        var maxSurvivors = _survivors.Length * 3 / 4;
        _survivorBlocks.Clear();
        _decided.Clear();
        var survivorBytes = 0;
        var blocks = _ring.OldestBlocks();
        while (blocks.MoveNext())
        {
            var owner = blocks.Owner;
            var position = blocks.Position;
            if (!_table.IsLive(owner, position))
            {
                continue;
            }

            var slot = _table.Block(owner).Slot;
            var payload = blocks.Payload;
            if (!_decided.TryGetValue(slot, out var keep))
            {
                keep = !release && _ring.LiveCount > 1 && Keeps(slot, recentFrom);
                _decided.Add(slot, keep);
            }

            if (keep && survivorBytes + payload.Length <= maxSurvivors)
            {
                payload.CopyTo(_survivors.AsSpan(survivorBytes));
                _survivorBlocks.Add((owner, survivorBytes, payload.Length));
                survivorBytes += payload.Length;
            }
            else
            {
                Evict(slot);
            }
        }

        _ring.DropOldest(release);
        if (_survivorBlocks.Count == 0)
        {
            return;
        }

        // The emptied array becomes the head and takes the survivors first.
        _ring.AddSegment();
        foreach (var (block, offset, length) in _survivorBlocks)
        {
            // A survivor's trace may have been evicted by a later block of this segment.
            if (_table.Block(block).Slot >= 0 && _table.Block(block).Position >= 0)
            {
                _table.Block(block).Position = _ring.Append(_survivors.AsSpan(offset, length), block);
            }
        }
    }

    /// <summary>
    /// Whether a trace whose oldest block is being recycled stays. Recent traces stay. A quiet trace is decided once:
    /// an error or a slow outlier is kept while its kind of trace fits its share of the cap (the oldest ones leave first,
    /// as they come round again); an ordinary one is kept as one of its route's samples while the route has fewer than
    /// it keeps; a sample leaves when its route has had newer traffic since, making room for a newer one.
    /// </summary>
    private bool Keeps(int slot, long recentFrom)
    {
        ref var entry = ref _table[slot];
        if (SegmentRing.SerialOf(_table.Block(entry.LastBlock).Position) >= recentFrom)
        {
            return true;
        }

        var route = entry.Route >= 0 ? _routes[entry.Route] : null;
        switch (entry.Retention)
        {
            case TraceRetention.Recent:
                var reason = Classify(entry, route);
                if (reason == TraceRetention.Recent)
                {
                    return false;
                }

                Retain(ref entry, reason, route);
                return true;
            case TraceRetention.Sampled:
                return route is not null && route.NewestVersion <= entry.Version && WithinBudget(TraceRetention.Sampled);
            default:
                return WithinBudget(entry.Retention);
        }
    }

    private TraceRetention Classify(in TraceSlot entry, RouteTable.Route? route)
    {
        if (entry.ErrorCount > 0 && _retainedBudget[(int)TraceRetention.Error] > 0)
        {
            return TraceRetention.Error;
        }

        if (_retainedBudget[(int)TraceRetention.Slow] > 0
            && (entry.DurationTicks >= _retention.SlowThreshold.Ticks || (route is not null && route.IsOutlier(entry.DurationTicks))))
        {
            return TraceRetention.Slow;
        }

        if (route is not null && route.Sampled < _retention.SamplesPerRoute && WithinBudget(TraceRetention.Sampled, entry.Bytes))
        {
            return TraceRetention.Sampled;
        }

        return TraceRetention.Recent;
    }

    private void Retain(ref TraceSlot entry, TraceRetention reason, RouteTable.Route? route)
    {
        _retainedBytes[(int)entry.Retention] -= entry.Bytes;
        _retainedBytes[(int)reason] += entry.Bytes;
        entry.Retention = reason;
        if (reason == TraceRetention.Sampled && route is not null)
        {
            route.Sampled++;
        }
    }

    private bool WithinBudget(TraceRetention reason, int more = 0) => _retainedBytes[(int)reason] + more <= _retainedBudget[(int)reason];

    private void Evict(int slot)
    {
        ref var entry = ref _table[slot];
        _retainedBytes[(int)entry.Retention] -= entry.Bytes;
        if (entry.Route >= 0)
        {
            LeaveRoute(ref entry);
        }

        _evictedTraces++;
        _evictedSpans += entry.SpanCount;
        _storedSpans -= entry.SpanCount;
        _evictions.Add(++_version, entry.Id);
        _table.Remove(slot);
    }

    public ValueTask<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Clamp(query.Limit, 1, TraceQuery.MaxLimit);
        var byDuration = query.Sort == TraceSort.Duration;
        var cursor = query.Cursor is null ? (Cursor?)null : Cursor.Parse(query.Cursor, byDuration);
        var matcher = new PayloadMatcher(query);
        var name = string.IsNullOrEmpty(query.Name) ? null : new Needle(query.Name);
        var top = new TopTraces(limit + 1);
        lock (_lock)
        {
            var componentBit = query.Component is { Length: > 0 } component ? _components.Find(component) : 0;

            // Segments that cannot hold the name or text are skipped without reading their payloads.
            var nameSegments = name is { CanScanBytes: true } ? _ring.SegmentsContaining(name) : null;
            var textSegments = matcher.TextNeedle is { CanScanBytes: true } text && !StageDefinitionsContain(text) ? _ring.SegmentsContaining(text) : null;
            for (var slot = _table.Newest; slot >= 0; slot = _table[slot].Older)
            {
                ref var entry = ref _table[slot];
                var key = byDuration ? entry.DurationTicks : entry.StartTicks;
                if (cursor is { } c && !c.IsAfter(key, entry.Id))
                {
                    continue;
                }

                if (!top.WouldTake(key, entry.Id)
                    || (nameSegments is not null && !InSegments(_table.Block(entry.RootBlock).Position, nameSegments))
                    || (textSegments is not null && !AnyBlockIn(slot, textSegments))
                    || !Matches(slot, ref entry, query, matcher, name, componentBit))
                {
                    continue;
                }

                top.Add(key, entry.Id, slot);
            }

            var chosen = top.Sorted();
            var summaries = new List<TraceSummary>(Math.Min(chosen.Count, limit));
            string? next = null;
            for (var i = 0; i < chosen.Count; i++)
            {
                if (i == limit)
                {
                    var last = chosen[limit - 1];
                    next = new Cursor(last.Key, last.Id, byDuration).ToString();
                    break;
                }

                summaries.Add(Summary(chosen[i].Slot));
            }

            return ValueTask.FromResult(new TracePage(summaries, next));
        }
    }

    private bool Matches(int slot, ref TraceSlot entry, TraceQuery query, PayloadMatcher matcher, Needle? name, ulong componentBit)
    {
        if ((query.From is { } from && entry.StartTicks < from.UtcTicks) || (query.To is { } to && entry.StartTicks > to.UtcTicks))
        {
            return false;
        }

        var duration = entry.DurationTicks;
        if ((query.MinDuration is { } min && duration < min.Ticks) || (query.MaxDuration is { } max && duration > max.Ticks))
        {
            return false;
        }

        if ((query.Status == TraceStatusFilter.Error && entry.ErrorCount == 0) || (query.Status == TraceStatusFilter.Ok && entry.ErrorCount > 0))
        {
            return false;
        }

        if (query.NPlusOne && entry.NPlusOne == 0)
        {
            return false;
        }

        if (query.KeptBecause is { } kept && entry.Retention != kept)
        {
            return false;
        }

        if (query.StatusClass is { } statusClass && entry.StatusCode / 100 != statusClass)
        {
            return false;
        }

        if (query.Kind is { } kind && !string.Equals(TraceKinds.All[entry.Kind], kind, StringComparison.Ordinal))
        {
            return false;
        }

        if (name is not null && !RootNameMatches(entry, name))
        {
            return false;
        }

        // A component kind is a bit of the mask; a component name (a middleware, a route) is looked for in the spans.
        if (matcher.HasComponentName && (entry.Components & componentBit) == 0 && !AnyPayload(slot, matcher.TouchesComponentName))
        {
            return false;
        }

        if (matcher.HasAttribute && !AnyPayload(slot, matcher.HasMatchingAttribute))
        {
            return false;
        }

        return !matcher.HasText || AnyPayload(slot, matcher.ContainsText);
    }

    private static bool StageDefinitionsContain(Needle text) => Capture.StageDefinition.Any(d =>
        d.Name.Contains(text.Text, StringComparison.OrdinalIgnoreCase)
        || (d.TypeName?.Contains(text.Text, StringComparison.OrdinalIgnoreCase) ?? false)
        || (d.Attributes?.Any(a => a.Value.Contains(text.Text, StringComparison.OrdinalIgnoreCase)) ?? false));

    private bool InSegments(long position, bool[] segments) => segments[SegmentRing.SerialOf(position) - _ring.OldestSerial];

    private bool AnyBlockIn(int slot, bool[] segments)
    {
        for (var block = _table[slot].FirstBlock; block >= 0; block = _table.Block(block).Next)
        {
            if (InSegments(_table.Block(block).Position, segments))
            {
                return true;
            }
        }

        return false;
    }

    private bool RootNameMatches(in TraceSlot entry, Needle name)
    {
        var root = new SpanPayload(_ring.Payload(_table.Block(entry.RootBlock).Position));
        return root.Name.ContainsIgnoreCase(name)
            || (root.TryGetAttribute(WellKnownStrings.NumberOf("http.route"), out var route) && route.ContainsIgnoreCase(name));
    }

    private delegate bool PayloadPredicate(ReadOnlySpan<byte> payload);

    private bool AnyPayload(int slot, PayloadPredicate predicate)
    {
        for (var block = _table[slot].FirstBlock; block >= 0; block = _table.Block(block).Next)
        {
            if (predicate(_ring.Payload(_table.Block(block).Position)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The summary of a trace, built from its slot and its root's payload.</summary>
    private TraceSummary Summary(int slot)
    {
        ref var entry = ref _table[slot];
        var root = new SpanPayload(_ring.Payload(_table.Block(entry.RootBlock).Position));
        var reader = root.Body();
        var name = reader.ReadString();
        reader.SkipText();
        reader.SkipText();
        var instance = reader.ReadString();
        string? route = null, method = null;
        var count = reader.ReadCount();
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadText();
            var value = reader.ReadText();
            if (key.IsWellKnown && WellKnownStrings.Get(key.Number) is var k)
            {
                if (k == "http.route")
                {
                    route = value.ToString();
                }
                else if (k == "http.request.method")
                {
                    method = value.ToString();
                }
            }
        }

        return new TraceSummary
        {
            TraceId = entry.Id.ToString(),
            Name = name,
            Route = route,
            Method = method,
            StatusCode = entry.StatusCode == 0 ? null : entry.StatusCode,
            StartTime = new DateTimeOffset(entry.StartTicks, TimeSpan.Zero),
            Duration = new TimeSpan(entry.DurationTicks),
            SpanCount = entry.SpanCount,
            ErrorCount = entry.ErrorCount,
            RejectedSpanCount = entry.Rejected,
            Components = _components.Names(entry.Components),
            Instance = instance,
            Version = entry.Version,
            DatabaseCount = entry.DatabaseCount,
            NPlusOne = entry.NPlusOne,
            DuplicateQueries = entry.DuplicateQueries,
            KeptBecause = entry.Retention,
            Kind = TraceKinds.All[entry.Kind],
        };
    }

    public ValueTask<TraceDetail?> GetTraceAsync(string traceId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(traceId);
        if (!TraceId128.TryParse(traceId, out var id))
        {
            return ValueTask.FromResult<TraceDetail?>(null);
        }

        lock (_lock)
        {
            var slot = _table.Find(id);
            if (slot < 0)
            {
                return ValueTask.FromResult<TraceDetail?>(null);
            }

            var spans = new List<SpanRecord>(_table[slot].SpanCount);
            for (var block = _table[slot].FirstBlock; block >= 0; block = _table.Block(block).Next)
            {
                SpanDecoder.Decode(_ring.Payload(_table.Block(block).Position), spans);
            }

            // By start time, and in the order stored for equal times (a request before its stages, a stage before
            // those nested in it): a stable sort.
            var ordered = spans.OrderBy(static s => s.StartTime).ToArray();
            return ValueTask.FromResult<TraceDetail?>(new TraceDetail(Summary(slot), ordered));
        }
    }

    public ValueTask<TraceChanges> GetChangesAsync(long afterVersion, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        lock (_lock)
        {
            if (afterVersion > _version)
            {
                // A version from before a restart of this store: start over.
                afterVersion = 0;
            }

            var (evicted, overflow) = _evictions.Since(afterVersion, maxCount, id => _table.Find(id) < 0);
            var first = _table.Newest;
            if (first < 0 || _table[first].Version <= afterVersion)
            {
                return ValueTask.FromResult(new TraceChanges([], Math.Max(afterVersion, _version), false) { Evicted = evicted, EvictedOverflow = overflow });
            }

            while (_table[first].Older is var older and >= 0 && _table[older].Version > afterVersion)
            {
                first = older;
            }

            var result = new List<TraceSummary>(Math.Min(maxCount, 256));
            var node = first;
            var version = afterVersion;
            while (node >= 0 && result.Count < maxCount)
            {
                result.Add(Summary(node));
                version = _table[node].Version;
                node = _table[node].Newer;
            }

            // With nothing newer left to send, the position is the store's version (evictions included).
            if (node < 0)
            {
                version = Math.Max(version, _version);
            }

            return ValueTask.FromResult(new TraceChanges(result, version, node >= 0) { Evicted = evicted, EvictedOverflow = overflow });
        }
    }

    public IReadOnlyList<TraceRouteStats> GetRouteStats()
    {
        lock (_lock)
        {
            var kept = new (int Error, int Slow)[_routes.Count];
            for (var slot = _table.Newest; slot >= 0; slot = _table[slot].Older)
            {
                ref var entry = ref _table[slot];
                if (entry.Route >= 0 && entry.Retention is TraceRetention.Error or TraceRetention.Slow)
                {
                    ref var counts = ref kept[entry.Route];
                    counts = entry.Retention == TraceRetention.Error ? (counts.Error + 1, counts.Slow) : (counts.Error, counts.Slow + 1);
                }
            }

            var result = new List<TraceRouteStats>(_routes.Count);
            for (var id = 0; id < _routes.Count; id++)
            {
                var route = _routes[id];
                result.Add(new TraceRouteStats(route.Name, route.Seen, route.Held, kept[id].Error, kept[id].Slow, route.Sampled));
            }

            result.Sort(static (a, b) => b.Seen.CompareTo(a.Seen));
            return result;
        }
    }

    public TraceStoreStats GetStats()
    {
        lock (_lock)
        {
            return new TraceStoreStats
            {
                StoredTraces = _table.Count,
                StoredSpans = _storedSpans,
                EvictedTraces = _evictedTraces,
                EvictedSpans = _evictedSpans,
                RejectedSpans = _rejectedSpans,
                Version = _version,
                MemoryBytes = MemoryBytes,
                CapacityBytes = _capacityBytes,
            };
        }
    }

    /// <summary>The best traces so far for one page: the <c>capacity</c> largest keys (then largest ids), kept in a min-heap.</summary>
    private sealed class TopTraces(int capacity)
    {
        private readonly List<(long Key, TraceId128 Id, int Slot)> _heap = new(Math.Min(capacity, 1_024));

        /// <summary>Whether a trace with this key would make the page (checked before the costlier filters).</summary>
        public bool WouldTake(long key, TraceId128 id) => _heap.Count < capacity || Better(key, id, _heap[0].Key, _heap[0].Id);

        public void Add(long key, TraceId128 id, int slot)
        {
            if (_heap.Count < capacity)
            {
                _heap.Add((key, id, slot));
                Up(_heap.Count - 1);
            }
            else
            {
                _heap[0] = (key, id, slot);
                Down(0);
            }
        }

        /// <summary>The chosen traces, best first.</summary>
        public List<(long Key, TraceId128 Id, int Slot)> Sorted()
        {
            _heap.Sort(static (a, b) => Better(a.Key, a.Id, b.Key, b.Id) ? -1 : Better(b.Key, b.Id, a.Key, a.Id) ? 1 : 0);
            return _heap;
        }

        private static bool Better(long key, TraceId128 id, long otherKey, TraceId128 otherId) =>
            key > otherKey || (key == otherKey && TraceId128.Compare(id, otherId) > 0);

        private void Up(int i)
        {
            while (i > 0)
            {
                var parent = (i - 1) / 2;
                if (!Better(_heap[parent].Key, _heap[parent].Id, _heap[i].Key, _heap[i].Id))
                {
                    break;
                }

                (_heap[parent], _heap[i]) = (_heap[i], _heap[parent]);
                i = parent;
            }
        }

        private void Down(int i)
        {
            while (true)
            {
                var worst = i;
                foreach (var child in (ReadOnlySpan<int>)[(2 * i) + 1, (2 * i) + 2])
                {
                    if (child < _heap.Count && Better(_heap[worst].Key, _heap[worst].Id, _heap[child].Key, _heap[child].Id))
                    {
                        worst = child;
                    }
                }

                if (worst == i)
                {
                    return;
                }

                (_heap[worst], _heap[i]) = (_heap[i], _heap[worst]);
                i = worst;
            }
        }
    }

    /// <summary>
    /// Position in the result order (sort key descending, then trace id descending). The key is the start time in
    /// ticks, or the duration in ticks (prefixed <c>d</c>) when sorting by duration.
    /// </summary>
    private readonly record struct Cursor(long Key, TraceId128 Id, bool ByDuration)
    {
        public bool IsAfter(long key, TraceId128 id) => key < Key || (key == Key && TraceId128.Compare(id, Id) < 0);

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{(ByDuration ? "d" : "")}{Key}-{Id}");

        public static Cursor Parse(string value, bool byDuration)
        {
            var text = value.AsSpan();
            var isDuration = text.Length > 0 && text[0] == 'd';
            if (isDuration)
            {
                text = text[1..];
            }

            var dash = text.IndexOf('-');
            if (isDuration != byDuration || dash <= 0
                || !long.TryParse(text[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var key)
                || !TraceId128.TryParse(text[(dash + 1)..], out var id))
            {
                throw new ArgumentException($"'{value}' is not a cursor returned by this store for this sort order; pass the nextCursor value of the previous page.", nameof(value));
            }

            return new Cursor(key, id, byDuration);
        }
    }
}
