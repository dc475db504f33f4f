using FlowScope.Embedded.Redis.Tests.Infrastructure;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Redis.Tests;

/// <summary>
/// The <see cref="ITraceStore"/> contract, run against the in-memory store and the Redis-backed store: with Redis
/// configured the dashboard must behave exactly as without it.
/// </summary>
public abstract class TraceStoreContractTests : IAsyncLifetime
{
    protected ITraceStore Store { get; private set; } = null!;

    protected abstract Task<ITraceStore> CreateStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Added_spans_are_found_by_trace_id_ordered_by_start()
    {
        var spans = TestSpans.Trace("web-1", 5);
        await Store.AddAsync(spans.Reverse().ToArray());

        var trace = await Store.GetTraceAsync(spans[0].TraceId);

        Assert.NotNull(trace);
        Assert.Equal(spans.Select(s => s.SpanId), trace.Spans.Select(s => s.SpanId));
        Assert.Equal(5, trace.Summary.SpanCount);
        Assert.Equal(spans[0].Name, trace.Summary.Name);
        Assert.Null(await Store.GetTraceAsync(TestSpans.NewTraceId()));
    }

    [Fact]
    public async Task Late_spans_join_their_trace()
    {
        var spans = TestSpans.Trace("web-1", 4);
        await Store.AddAsync(spans[..2]);
        await Store.AddAsync(TestSpans.Trace("web-1", 2));
        await Store.AddAsync(spans[2..]);

        var trace = await Store.GetTraceAsync(spans[0].TraceId);
        Assert.Equal(4, trace!.Spans.Count);
        Assert.Equal(2, (await Store.QueryAsync(new TraceQuery())).Traces.Count);
    }

    [Fact]
    public async Task Queries_page_newest_first_with_a_cursor()
    {
        for (var i = 0; i < 7; i++)
        {
            await Store.AddAsync(TestSpans.Trace("web-1", 2));
        }

        var first = await Store.QueryAsync(new TraceQuery { Limit = 4 });
        var second = await Store.QueryAsync(new TraceQuery { Limit = 4, Cursor = first.NextCursor });

        Assert.Equal(4, first.Traces.Count);
        Assert.NotNull(first.NextCursor);
        Assert.Equal(3, second.Traces.Count);
        Assert.Null(second.NextCursor);
        var all = first.Traces.Concat(second.Traces).ToList();
        Assert.Equal(all.OrderByDescending(t => t.StartTime).Select(t => t.TraceId), all.Select(t => t.TraceId));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.QueryAsync(new TraceQuery { Cursor = "nonsense" }));
    }

    [Fact]
    public async Task Changes_report_each_updated_trace_once_with_its_latest_state()
    {
        var before = Store.GetStats().Version;
        var a = TestSpans.Trace("web-1", 3);
        var b = TestSpans.Trace("web-1", 2);
        await Store.AddAsync(a[..1]);
        await Store.AddAsync(b);
        await Store.AddAsync(a[1..]);

        var changes = await Store.GetChangesAsync(before, 100);

        Assert.Equal([b[0].TraceId, a[0].TraceId], changes.Traces.Select(t => t.TraceId));
        Assert.Equal(3, changes.Traces[1].SpanCount);
        Assert.Equal(Store.GetStats().Version, changes.Version);
        Assert.False(changes.HasMore);
        Assert.Equal(5, Store.GetStats().StoredSpans);
    }
}

public sealed class InMemoryTraceStoreContractTests : TraceStoreContractTests
{
    protected override Task<ITraceStore> CreateStoreAsync() =>
        Task.FromResult<ITraceStore>(new InMemoryTraceStore(FlowScopeOptions.DefaultMaxTraces, FlowScopeOptions.DefaultMaxSpansPerTrace));
}

public sealed class RedisTraceStoreContractTests(RedisServer server) : TraceStoreContractTests, IClassFixture<RedisServer>
{
    private RedisStack? _stack;

    protected override async Task<ITraceStore> CreateStoreAsync()
    {
        _stack = await RedisStack.StartAsync(server, RedisStack.NewPrefix(), "web-1");
        Assert.IsType<Internal.RedisTraceStore>(_stack.Store);
        return _stack.Store;
    }

    public override async Task DisposeAsync()
    {
        if (_stack is not null)
        {
            // Everything added through the contract also reached Redis.
            await _stack.FlushedAsync();
            Assert.Equal(0, _stack.Writer.GetStats().Dropped);
            await _stack.DisposeAsync();
        }
    }
}
