using BenchmarkDotNet.Running;
using FlowScope.Embedded.Benchmarks;

// dotnet run -c Release --project bench/FlowScope.Embedded.Benchmarks -- [memory | probe | loop <mode> <path> [seconds] | BenchmarkDotNet arguments]
if (args.Length > 0 && string.Equals(args[0], "memory", StringComparison.OrdinalIgnoreCase))
{
    return MemoryPerSpan.Run();
}

if (args.Length > 0 && string.Equals(args[0], "probe", StringComparison.OrdinalIgnoreCase))
{
    return await ServerSpanProbe.RunAsync();
}

if (args.Length > 2 && string.Equals(args[0], "loop", StringComparison.OrdinalIgnoreCase))
{
    // Profiling aid: loop <mode> <path> [seconds] runs the request-path benchmark's request on one thread (perf record).
    return await RequestPathBenchmarks.LoopAsync(args[1], args[2], args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 10);
}

BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args, new BenchConfig());
return 0;
