using System.Globalization;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using FlowScope.Embedded.Dashboard;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// One live-stream batch: 100 trace summaries to JSON through the source-generated <see cref="DashboardJsonContext"/>,
/// exactly as <c>LiveStream.Serialize</c> does (summary → DTO array → string); then the same plus the SSE framing and
/// UTF-8 encoding <c>LiveStream.EventWriter</c> performs before writing to the response; and, for comparison only,
/// a direct UTF-8 serialization that FlowScope does not use (yet).
/// </summary>
[MemoryDiagnoser]
public class SerializationBenchmarks
{
    private IReadOnlyList<TraceSummary> _summaries = [];
    private readonly StringBuilder _pending = new();

    [GlobalSetup]
    public void Setup()
    {
        var store = new InMemoryTraceStore(InMemoryTraceStore.MinCapacityBytes, 1_000);
        var records = Fixtures.NewTraceRecords(200, 5, seed: 3, new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero), errorEvery: 10);
        store.AddAsync(SpanBatch.Encode(records)).AsTask().GetAwaiter().GetResult();
        _summaries = store.QueryAsync(new TraceQuery { Limit = 100 }).AsTask().GetAwaiter().GetResult().Traces;
        if (_summaries.Count != 100)
        {
            throw new InvalidOperationException("Expected 100 summaries.");
        }
    }

    /// <summary>The code path of <c>LiveStream.Serialize</c>.</summary>
    [Benchmark(Baseline = true)]
    public string Batch100ToJsonString() => DashboardEndpoints.Serialize<IReadOnlyList<TraceSummaryDto>>(ToDtos(), DashboardJsonContext.Default.IReadOnlyListTraceSummaryDto);

    /// <summary>The JSON string framed as one SSE event and encoded to UTF-8, as <c>EventWriter</c> does.</summary>
    [Benchmark]
    public byte[] Batch100ToSseEventBytes()
    {
        var json = DashboardEndpoints.Serialize<IReadOnlyList<TraceSummaryDto>>(ToDtos(), DashboardJsonContext.Default.IReadOnlyListTraceSummaryDto);
        _pending.Append("event: ").Append("traces").Append('\n');
        _pending.Append("id: ").Append(12345L.ToString(CultureInfo.InvariantCulture)).Append('\n');
        _pending.Append("data: ").Append(json).Append("\n\n");
        var bytes = Encoding.UTF8.GetBytes(_pending.ToString());
        _pending.Clear();
        return bytes;
    }

    /// <summary>Not FlowScope's code path: the same DTOs serialized straight to UTF-8 bytes.</summary>
    [Benchmark]
    public byte[] Batch100ToUtf8Direct() => JsonSerializer.SerializeToUtf8Bytes<IReadOnlyList<TraceSummaryDto>>(ToDtos(), DashboardJsonContext.Default.IReadOnlyListTraceSummaryDto);

    private static readonly RoutineRequests Routine = new(FlowScopeOptions.DefaultRoutinePaths);

    private TraceSummaryDto[] ToDtos()
    {
        var dtos = new TraceSummaryDto[_summaries.Count];
        for (var i = 0; i < dtos.Length; i++)
        {
            dtos[i] = TraceSummaryDto.From(_summaries[i], Routine);
        }

        return dtos;
    }
}
