// Persisted-throughput and memory-per-span harness for FlowScope's Redis writer (Stopwatch, not BenchmarkDotNet:
// the quantity is sustained end-to-end throughput against a real server, not a micro-operation).
//
//   dotnet run -c Release --project bench/FlowScope.Embedded.Redis.Benchmarks [-- --spans 1000000]
//     Starts its own redis-server (/usr/bin/redis-server) on a free loopback port and kills it at the end.
//
//   dotnet run -c Release --project bench/FlowScope.Embedded.Redis.Benchmarks -- --index-memory [--traces 20000]
//     Memory of the shared index: writes request-shaped traces (5 spans each), lets one consumer index them, and
//     prints the index's MEMORY USAGE per trace and per span (starts its own redis-server like the default mode).
//
//   dotnet run -c Release --project bench/FlowScope.Embedded.Redis.Benchmarks -- --cluster HOST:PORT,... --shards N [--seconds 20]
//     Against a running Redis (a cluster, as bench/redis-cluster.sh starts one): feeds the writer as fast as it
//     persists for the given time, with N shards, and prints one line
//     "shards=N spans_per_s=… entries=… bytes_per_span=… prefix=…" (the keys are left for the caller to inspect).

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FlowScope.Embedded.Redis;
using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

if (Array.IndexOf(args, "--cluster") is var at and >= 0)
{
    var shards = Array.IndexOf(args, "--shards") is var s and >= 0 ? int.Parse(args[s + 1], CultureInfo.InvariantCulture) : 1;
    var seconds = Array.IndexOf(args, "--seconds") is var d and >= 0 ? int.Parse(args[d + 1], CultureInfo.InvariantCulture) : 20;
    await SustainedAsync(args[at + 1], shards, TimeSpan.FromSeconds(seconds));
    return;
}

var spanCount = args.Length >= 2 && args[0] == "--spans" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
var port = FreePort();
using var server = StartRedis(port);
try
{
    var connectionString = $"127.0.0.1:{port}";
    await WaitForRedisAsync(connectionString);
    if (Array.IndexOf(args, "--index-memory") >= 0)
    {
        var traces = Array.IndexOf(args, "--traces") is var t and >= 0 ? int.Parse(args[t + 1], CultureInfo.InvariantCulture) : 20_000;
        await IndexMemoryAsync(connectionString, traces);
        return;
    }

    var pool = CreateSpans(20_000).Chunk(1_000).Select(SpanBatch.Encode).ToArray();

    Console.WriteLine($"redis-server {RedisVersion()} on loopback, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
    MeasureCodec(pool, true);
    MeasureCodec(pool, false);
    Console.WriteLine($"{"layout",-38} {"spans",10} {"spans/s",12} {"entries",9} {"bytes/span",11}");
    await RunAsync("packed 256/entry, deflate", connectionString, pool, spanCount, o => { o.MaxSpansPerEntry = 256; o.Compress = true; });
    await RunAsync("packed 256/entry, uncompressed", connectionString, pool, spanCount, o => { o.MaxSpansPerEntry = 256; o.Compress = false; });
    await RunAsync("5 spans/entry (light load), uncompr.", connectionString, pool, Math.Min(spanCount, 200_000), o => { o.MaxSpansPerEntry = 5; o.Compress = false; });
    await RunAsync("one span per entry, uncompressed", connectionString, pool, Math.Min(spanCount, 200_000), o => { o.MaxSpansPerEntry = 1; o.Compress = false; });
}
finally
{
    server.Kill(entireProcessTree: true);
    server.WaitForExit(10_000);
}

static async Task RunAsync(string name, string connectionString, SpanBatch[] pool, int total, Action<RedisStreamsOptions> configure)
{
    var options = new RedisStreamsOptions
    {
        ConnectionString = connectionString,
        KeyPrefix = "bench" + Guid.NewGuid().ToString("N")[..8],
        MaxStreamEntries = 10_000_000, // keep everything: MEMORY USAGE then covers every span written
        WriterQueueCapacity = 1 << 20,
        RetryBufferCapacity = 1 << 20,
    };
    configure(options);
    await using var connection = new RedisConnection(Options.Create(options), NullLogger<RedisConnection>.Instance);
    var writer = new RedisStreamWriter(options, connection, "bench-1", "benchrun", TimeProvider.System, NullLogger.Instance);
    using var stop = new CancellationTokenSource();
    var loop = Task.Run(() => writer.RunAsync(stop.Token));
    await connection.GetAsync();

    var produced = 0;
    var next = 0;
    var started = Stopwatch.GetTimestamp();
    while (produced < total)
    {
        // Like the pump: batches of up to 1 024; hold back while 64k spans wait, so nothing is dropped.
        if (writer.GetStats().Waiting > 65_536)
        {
            await Task.Delay(1);
            continue;
        }

        // Like the pump: one batch of encoded spans at a time.
        var batch = pool[next++ % pool.Length];
        writer.TryEnqueue(batch);
        produced += batch.SpanCount;
    }

    while (writer.GetStats().Persisted < produced)
    {
        await Task.Delay(1);
    }

    var elapsed = Stopwatch.GetElapsedTime(started);
    writer.Complete();
    await loop;

    var db = (await connection.GetAsync()).GetDatabase();
    var bytes = (long)await db.ExecuteAsync("MEMORY", "USAGE", options.CreateLayout()[0].StreamKey, "SAMPLES", "0");
    var stats = writer.GetStats();
    if (stats.Dropped != 0)
    {
        throw new InvalidOperationException($"{stats.Dropped} spans dropped during the benchmark.");
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name,-38} {produced,10:N0} {produced / elapsed.TotalSeconds,12:N0} {stats.EntriesWritten,9:N0} {(double)bytes / produced,11:F1}"));
    await db.KeyDeleteAsync(options.CreateLayout()[0].StreamKey);
}

static async Task IndexMemoryAsync(string connectionString, int traceCount)
{
    var options = new RedisStreamsOptions
    {
        ConnectionString = connectionString,
        KeyPrefix = "bench" + Guid.NewGuid().ToString("N")[..8],
        MaxStreamEntries = 10_000_000,
        WriterQueueCapacity = 1 << 22,
        RetryBufferCapacity = 1 << 22,
        PollInterval = TimeSpan.FromMilliseconds(100),
    };
    var spans = CreateSpans(traceCount * 5);
    await using var connection = new RedisConnection(Options.Create(options), NullLogger<RedisConnection>.Instance);
    var layout = options.CreateLayout();
    var writer = new RedisStreamWriter(options, layout, connection, "bench-1", "benchrun", TimeProvider.System, NullLogger.Instance);
    var index = new RedisIndexProcessor(options, layout[0], connection, new RedisWakeUp(connection, layout.WakeUpChannel, TimeProvider.System), "bench-1", TimeProvider.System, NullLogger.Instance);
    using var stop = new CancellationTokenSource();
    var writing = writer.RunAsync(stop.Token);
    var indexing = Task.Run(() => index.RunAsync(stop.Token));
    for (var offset = 0; offset < spans.Length; offset += 1_024)
    {
        writer.TryEnqueue(SpanBatch.Encode(spans.AsSpan(offset, Math.Min(1_024, spans.Length - offset)).ToArray()));
    }

    writer.Complete();
    await writing;
    var entries = writer.GetStats().EntriesWritten;
    while (index.GetStats().Processed < entries)
    {
        await Task.Delay(50);
    }

    await stop.CancelAsync();
    await indexing;
    var multiplexer = await connection.GetAsync();
    var db = multiplexer.GetDatabase();
    var server = multiplexer.GetServers()[0];
    long bytes = 0;
    var keys = 0;
    await foreach (var key in server.KeysAsync(pattern: layout[0].IndexKeyPrefix + "*", pageSize: 1_000))
    {
        bytes += (long)await db.ExecuteAsync("MEMORY", "USAGE", key, "SAMPLES", "0");
        keys++;
    }

    var stream = (long)await db.ExecuteAsync("MEMORY", "USAGE", layout[0].StreamKey, "SAMPLES", "0");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"traces={traceCount} spans={spans.Length} entries={entries} index_keys={keys} index_bytes_per_trace={(double)bytes / traceCount:F0} index_bytes_per_span={(double)bytes / spans.Length:F1} stream_bytes_per_span={(double)stream / spans.Length:F1}"));
}

static async Task SustainedAsync(string connectionString, int shards, TimeSpan duration)
{
    var options = new RedisStreamsOptions
    {
        ConnectionString = connectionString,
        KeyPrefix = "bench" + Guid.NewGuid().ToString("N")[..8],
        Shards = shards,
        MaxStreamEntries = 10_000_000, // keep everything: MEMORY USAGE then covers every span written
        WriterQueueCapacity = 1 << 20,
        RetryBufferCapacity = 1 << 20,
        OperationTimeout = TimeSpan.FromSeconds(10),
    };
    var pool = CreateSpans(60_000).Chunk(1_024).Select(SpanBatch.Encode).ToArray();
    await using var connection = new RedisConnection(Options.Create(options), NullLogger<RedisConnection>.Instance);
    var layout = options.CreateLayout();
    var writer = new RedisStreamWriter(options, layout, connection, "bench-1", "benchrun", TimeProvider.System, NullLogger.Instance);
    using var stop = new CancellationTokenSource();
    var loop = writer.RunAsync(stop.Token);
    await connection.GetAsync();

    // Like the pump: batches of up to 1 024 spans; hold back while 64k spans wait, so nothing is dropped and the
    // writers, not the feeder, set the pace. The pool's 12 000 traces have random ids: they spread over the shards.
    var produced = 0L;
    var next = 0;
    var started = Stopwatch.GetTimestamp();
    while (Stopwatch.GetElapsedTime(started) < duration)
    {
        if (writer.GetStats().Waiting > 65_536)
        {
            await Task.Delay(1);
            continue;
        }

        var batch = pool[next++ % pool.Length];
        writer.TryEnqueue(batch);
        produced += batch.SpanCount;
    }

    var persisted = writer.GetStats().Persisted;
    var elapsed = Stopwatch.GetElapsedTime(started);
    writer.Complete();
    await loop;

    var db = (await connection.GetAsync()).GetDatabase();
    long bytes = 0;
    foreach (var shard in layout.Shards)
    {
        bytes += (long)await db.ExecuteAsync("MEMORY", "USAGE", shard.StreamKey, "SAMPLES", "0");
    }

    var stats = writer.GetStats();
    if (stats.Dropped != 0)
    {
        throw new InvalidOperationException($"{stats.Dropped} spans dropped during the benchmark.");
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"shards={shards} spans_per_s={persisted / elapsed.TotalSeconds:F0} entries={stats.EntriesWritten} bytes_per_span={(double)bytes / stats.Persisted:F1} prefix={options.KeyPrefix}"));
}

static void MeasureCodec(SpanBatch[] pool, bool compress)
{
    var output = new System.Buffers.ArrayBufferWriter<byte>(1 << 20);
    var encoded = 0;
    var started = Stopwatch.GetTimestamp();
    for (var round = 0; round < 10; round++)
    {
        foreach (var batch in pool)
        {
            output.ResetWrittenCount();
            batch.WriteTo(output);
            if (compress)
            {
                StreamEntryFormat.Compress(output.WrittenSpan);
            }

            encoded += batch.SpanCount;
        }
    }

    var elapsed = Stopwatch.GetElapsedTime(started);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"entry payload only ({(compress ? "deflate" : "uncompressed")}): {encoded / elapsed.TotalSeconds:N0} spans/s on one thread"));
}

static SpanRecord[] CreateSpans(int count)
{
    // Request-shaped traces: a server span with HTTP attributes, then middleware and endpoint children.
    var spans = new SpanRecord[count];
    var start = DateTimeOffset.UtcNow;
    string traceId = "", rootId = "";
    for (var i = 0; i < count; i++)
    {
        var spanId = ActivitySpanId.CreateRandom().ToHexString();
        var at = start.AddTicks(i * 1_234);
        if (i % 5 == 0)
        {
            traceId = ActivityTraceId.CreateRandom().ToHexString();
            rootId = spanId;
            spans[i] = new SpanRecord(traceId, spanId, null, "GET /api/rooms/{id}/messages", ActivityKind.Server, SpanComponents.Server,
                at, TimeSpan.FromTicks(40_000 + (i % 977)), ActivityStatusCode.Unset, null,
                [new("http.request.method", "GET"), new("http.route", "/api/rooms/{id}/messages"), new("url.path", $"/api/rooms/{i % 50}/messages"),
                 new("http.response.status_code", "200"), new("client.address", "10.0.0." + (i % 200).ToString(CultureInfo.InvariantCulture))],
                [], [], "Microsoft.AspNetCore", "web-1");
        }
        else
        {
            var stage = (i % 5) switch { 1 => "ExceptionHandlerMiddleware", 2 => "AuthenticationMiddleware", 3 => "RoutingMiddleware", _ => "GetMessages" };
            spans[i] = new SpanRecord(traceId, spanId, rootId, stage, ActivityKind.Internal, i % 5 == 4 ? SpanComponents.Endpoint : SpanComponents.Middleware,
                at.AddTicks(100), TimeSpan.FromTicks(5_000 + (i % 313)), ActivityStatusCode.Unset, null,
                [new("flowscope.middleware", stage)], [], [], "FlowScope.Embedded.Pipeline", "web-1");
        }
    }

    return spans;
}

static Process StartRedis(int port)
{
    var start = new ProcessStartInfo("/usr/bin/redis-server") { RedirectStandardOutput = true, UseShellExecute = false };
    foreach (var arg in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
    {
        start.ArgumentList.Add(arg);
    }

    var process = Process.Start(start)!;
    process.OutputDataReceived += (_, _) => { };
    process.BeginOutputReadLine();
    return process;
}

static async Task WaitForRedisAsync(string connectionString)
{
    for (var i = 0; i < 100; i++)
    {
        try
        {
            using var probe = await ConnectionMultiplexer.ConnectAsync(connectionString + ",connectTimeout=200");
            return;
        }
        catch (RedisConnectionException)
        {
            await Task.Delay(100);
        }
    }

    throw new InvalidOperationException("redis-server did not start.");
}

static string RedisVersion()
{
    var info = Process.Start(new ProcessStartInfo("/usr/bin/redis-server", "--version") { RedirectStandardOutput = true })!;
    var text = info.StandardOutput.ReadToEnd();
    info.WaitForExit();
    return text.Split(' ').FirstOrDefault(p => p.StartsWith("v=", StringComparison.Ordinal))?[2..] ?? "?";
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}
