using System.Net;
using System.Runtime;

namespace FlowScope.Samples.Messenger.Infrastructure;

/// <summary>
/// <c>GET /internal/runtime</c>: the process's managed-memory figures (GC heap, committed bytes, fragmentation,
/// generation sizes and collection counts), read by <c>bench/soak.sh</c> beside the resident set. Mapped only when
/// <c>Messenger:RuntimeStats=true</c> and answered only to loopback callers; not a feature of the chat.
/// </summary>
internal static class RuntimeStatsEndpoint
{
    public const string Path = "/internal/runtime";

    public static void MapRuntimeStats(this WebApplication app)
    {
        if (!app.Configuration.GetValue("Messenger:RuntimeStats", false))
        {
            return;
        }

        app.MapGet(Path, (HttpContext context) =>
        {
            if (context.Connection.RemoteIpAddress is not { } remote || !IPAddress.IsLoopback(remote))
            {
                return Results.NotFound();
            }

            return Results.Json(Read());
        });
    }

    internal static RuntimeStats Read()
    {
        // The figures of the last collection of any kind (heap size, fragmentation and generation sizes are as that
        // collection left them); counts and committed bytes are current.
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        var sizes = new long[5];
        var generations = info.GenerationInfo;
        for (var i = 0; i < sizes.Length && i < generations.Length; i++)
        {
            sizes[i] = generations[i].SizeAfterBytes;
        }

        return new RuntimeStats(
            ServerGc: GCSettings.IsServerGC,
            ConcurrentGc: GCSettings.LatencyMode != GCLatencyMode.Batch,
            HeapSizeBytes: info.HeapSizeBytes,
            CommittedBytes: info.TotalCommittedBytes,
            FragmentedBytes: info.FragmentedBytes,
            PromotedBytes: info.PromotedBytes,
            Gen0Bytes: sizes[0],
            Gen1Bytes: sizes[1],
            Gen2Bytes: sizes[2],
            LohBytes: sizes[3],
            PohBytes: sizes[4],
            Gen0Collections: GC.CollectionCount(0),
            Gen1Collections: GC.CollectionCount(1),
            Gen2Collections: GC.CollectionCount(2),
            TotalAllocatedBytes: GC.GetTotalAllocatedBytes(precise: false),
            PauseTimePercentage: info.PauseTimePercentage,
            WorkingSetBytes: Environment.WorkingSet);
    }
}

/// <summary>The figures <see cref="RuntimeStatsEndpoint"/> answers with.</summary>
internal sealed record RuntimeStats(
    bool ServerGc,
    bool ConcurrentGc,
    long HeapSizeBytes,
    long CommittedBytes,
    long FragmentedBytes,
    long PromotedBytes,
    long Gen0Bytes,
    long Gen1Bytes,
    long Gen2Bytes,
    long LohBytes,
    long PohBytes,
    int Gen0Collections,
    int Gen1Collections,
    int Gen2Collections,
    long TotalAllocatedBytes,
    double PauseTimePercentage,
    long WorkingSetBytes);
