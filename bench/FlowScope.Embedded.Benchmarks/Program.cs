using BenchmarkDotNet.Running;
using FlowScope.Embedded.Benchmarks;

// dotnet run -c Release --project bench/FlowScope.Embedded.Benchmarks -- [memory | probe | BenchmarkDotNet arguments]
if (args.Length > 0 && string.Equals(args[0], "memory", StringComparison.OrdinalIgnoreCase))
{
    return MemoryPerSpan.Run();
}

if (args.Length > 0 && string.Equals(args[0], "probe", StringComparison.OrdinalIgnoreCase))
{
    return await ServerSpanProbe.RunAsync();
}

BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args, new BenchConfig());
return 0;
