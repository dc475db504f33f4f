using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using Perfolizer.Horology;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// One short job for every benchmark so a full run fits in about ten minutes on a 2-core machine: one launch,
/// 5 warm-up and 15 measured iterations of about 250 ms each (classes that must drain the buffer between
/// iterations fix the invocation count instead). Allocations are measured for every benchmark.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        Add(DefaultConfig.Instance);
        AddJob(Job.Default
            .WithId("Short")
            .WithLaunchCount(1)
            .WithWarmupCount(5)
            .WithIterationCount(15)
            .WithIterationTime(TimeInterval.FromMilliseconds(250)));
        AddDiagnoser(MemoryDiagnoser.Default);

        // This machine is shared with other work: the minimum and the median are less disturbed than the mean.
        AddColumn(StatisticColumn.Median, StatisticColumn.Min);
        WithOption(ConfigOptions.JoinSummary, false);
    }
}
