using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Redis.Tests.Infrastructure;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FlowScope.Embedded.Redis.Tests;

/// <summary>Through real ASP.NET Core hosts. One host at a time captures (ActivityListeners are process-wide).</summary>
public class HostIntegrationTests(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Requests_to_one_host_show_up_in_another_hosts_dashboard_api()
    {
        var prefix = RedisStack.NewPrefix();
        await using (var hostA = await TestHost.StartAsync("host-a", server.ConnectionString, prefix))
        {
            Assert.IsType<RedisTraceStore>(hostA.Services.GetRequiredService<ITraceStore>());
            for (var i = 0; i < 10; i++)
            {
                var response = await hostA.Client.GetAsync($"/hello/{i}");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            await Eventually.WaitUntilAsync(
                () => hostA.Redis.Writer!.GetStats() is { Persisted: > 0, Waiting: 0 } && hostA.Services.GetRequiredService<ITraceStore>().GetStats().StoredTraces >= 10,
                s_timeout, "host A persisted its request spans");

            // Host A's stats account for its writer: what it produced is persisted, waiting or dropped.
            using var stats = JsonDocument.Parse(await hostA.Client.GetStringAsync("/_flowscope/api/stats"));
            var redis = stats.RootElement.GetProperty("extensions").GetProperty("redis");
            Assert.True(redis.GetProperty("persisted").GetDouble() > 0);
            Assert.Equal(redis.GetProperty("produced").GetDouble(), redis.GetProperty("persisted").GetDouble() + redis.GetProperty("waiting").GetDouble() + redis.GetProperty("dropped").GetDouble());
        }

        await using var hostB = await TestHost.StartAsync("host-b", server.ConnectionString, prefix);
        List<JsonElement> fromA = [];
        await Eventually.WaitUntilAsync(async () =>
        {
            using var json = JsonDocument.Parse(await hostB.Client.GetStringAsync("/_flowscope/api/traces?limit=100"));
            fromA = json.RootElement.GetProperty("traces").EnumerateArray()
                .Where(t => t.GetProperty("instance").GetString() == "host-a" && t.GetProperty("components").EnumerateArray().Any(c => c.GetString() == "server")).Select(t => t.Clone()).ToList();
            return fromA.Count >= 10;
        }, s_timeout, "host B lists host A's traces");

        // The ten requests, each a server span with the test client's outgoing span.
        Assert.Equal(10, fromA.Count);
        Assert.All(fromA, t => Assert.Equal(200, t.GetProperty("statusCode").GetInt32()));
        Assert.All(fromA, t => Assert.Contains("server", t.GetProperty("components").EnumerateArray().Select(c => c.GetString())));
        var traceId = fromA[0].GetProperty("traceId").GetString();
        using var detail = JsonDocument.Parse(await hostB.Client.GetStringAsync($"/_flowscope/api/traces/{traceId}"));
        Assert.All(detail.RootElement.GetProperty("spans").EnumerateArray(), s => Assert.Equal("host-a", s.GetProperty("instance").GetString()));

    }

    [Fact]
    public async Task Spans_captured_just_before_shutdown_are_still_persisted()
    {
        var prefix = RedisStack.NewPrefix();
        var host = await TestHost.StartAsync("host-a", server.ConnectionString, prefix);
        RedisStreamWriter writer;
        try
        {
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync($"/hello/{i}")).StatusCode);
            }

            writer = host.Redis.Writer!;
            // Hosted services stop in reverse order: the Redis runtime must come before FlowScope's pump.
            var hosted = host.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().ToList();
            var pump = hosted.FindIndex(h => h.GetType().Name == "FlowScopeRuntime");
            Assert.InRange(hosted.IndexOf(host.Redis), 0, pump - 1);
        }
        finally
        {
            // Stopped at once: the pump's final drain runs, then the Redis runtime (registered first, stopped last).
            await host.DisposeAsync();
        }

        var stats = writer.GetStats();
        Assert.Equal(0, stats.Waiting);
        Assert.Equal(0, stats.Dropped);
        Assert.True(stats.Persisted >= 40, $"{stats.Persisted} spans persisted");
        using var redis = await RedisStack.ConnectAsync(server);
        Assert.Equal(stats.Persisted, await RedisStack.CountDistinctSpansAsync(redis.GetDatabase(), prefix + ":spans"));
    }

    [Fact]
    public async Task Killing_redis_for_30_seconds_under_load_fails_no_request_and_loses_no_span()
    {
        var outageDuration = TimeSpan.FromSeconds(30);
        var prefix = RedisStack.NewPrefix();
        // Long Redis timeouts: a request that waited on Redis would take seconds, far above the bounds below.
        await using var host = await TestHost.StartAsync("host-a", server.ConnectionString, prefix, o =>
        {
            o.OperationTimeout = TimeSpan.FromSeconds(5);
            o.ConnectTimeout = TimeSpan.FromSeconds(5);
            o.RetryMaxDelay = TimeSpan.FromSeconds(2); // so the writer retries soon after the restart
        });
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var latencies = new List<TimeSpan>();
        var statuses = new List<HttpStatusCode>();

        async Task SendAsync(int count, bool measure = true)
        {
            for (var i = 0; i < count; i++)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await host.Client.GetAsync($"/hello/{i}");
                if (measure)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(started));
                }

                statuses.Add(response.StatusCode);
            }
        }

        // Warm-up (JIT, first connection) is not what this test measures.
        await SendAsync(50, measure: false);
        await Eventually.WaitUntilAsync(() => host.Redis.Writer!.GetStats() is { Persisted: > 0, Waiting: 0 }, s_timeout, "first requests persisted");
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);

        server.Kill();
        long indexedBeforeRestart;
        var duringOutage = 0;
        try
        {
            var outage = Stopwatch.StartNew();
            while (outage.Elapsed < outageDuration)
            {
                await SendAsync(10);
                duringOutage += 10;
            }

            await Eventually.WaitUntilAsync(() => host.Redis.Writer!.GetStats().Retrying > 0, s_timeout, "spans wait for retry");

            // Degraded while the retry buffer has room, unhealthy once it overflows: never healthy during the outage.
            var report = await health.CheckHealthAsync();
            Assert.NotEqual(HealthStatus.Healthy, report.Entries[RedisStreamsFlowScopeBuilderExtensions.HealthCheckName].Status);
            indexedBeforeRestart = host.Redis.Index!.GetStats().Processed;
        }
        finally
        {
            // The fixture's server is shared by this class's tests: bring it back whatever happened above.
            await server.StartAsync();
        }

        await SendAsync(50);
        await Eventually.WaitUntilAsync(() => host.Redis.Writer!.GetStats() is { Waiting: 0, Retrying: 0 }, s_timeout, "writer caught up after the restart");
        // The restarted server lost the consumer group with its data: the consumer creates it again and goes on.
        await Eventually.WaitUntilAsync(() => host.Redis.Index!.GetStats().Processed > indexedBeforeRestart, s_timeout, "consumer group recreated");
        await Eventually.WaitUntilAsync(async () => (await health.CheckHealthAsync()).Status == HealthStatus.Healthy, s_timeout, "healthy again");

        Assert.Equal(50 + duringOutage + 50, statuses.Count);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        // Requests during and after the outage: none waited for Redis. The bound on the slowest one leaves room for
        // scheduling hiccups of a loaded 2-core test machine, not for a 5 s Redis timeout.
        Assert.Equal(duringOutage + 50, latencies.Count);
        latencies.Sort();
        Assert.True(latencies[(int)(latencies.Count * 0.95)] < TimeSpan.FromMilliseconds(100), $"p95 {latencies[(int)(latencies.Count * 0.95)].TotalMilliseconds} ms");
        Assert.True(latencies[^1] < TimeSpan.FromMilliseconds(2_500), $"slowest request {latencies[^1].TotalMilliseconds} ms");
        // Thirty seconds of traffic can outgrow the retry budget: whatever did not fit is dropped and counted,
        // everything else is persisted once Redis is back, and nothing is unaccounted for.
        var stats = host.Redis.Writer!.GetStats();
        Assert.Equal(stats.Produced, stats.Persisted + stats.Dropped);
        Assert.Equal(stats.Dropped, stats.DroppedRetryOverflow + stats.DroppedQueueFull);
        // The retry buffer makes room by dropping whole entries (oldest first), so when it overflowed up to one entry's
        // worth of it (MaxSpansPerEntry - 1 spans) can be left unused: that is the only slack allowed.
        var retained = Math.Min(stats.Produced, stats.RetryBufferCapacity - (RedisStreamsOptions.DefaultMaxSpansPerEntry - 1));
        Assert.True(stats.Persisted >= retained, $"persisted {stats.Persisted} of {stats.Produced} with a retry budget of {stats.RetryBufferCapacity}");
        Assert.True(stats.FailedWrites > 0);
        using var api = JsonDocument.Parse(await host.Client.GetStringAsync("/_flowscope/api/stats"));
        Assert.Equal((double)stats.Dropped, api.RootElement.GetProperty("extensions").GetProperty("redis").GetProperty("dropped").GetDouble());
    }

    [Fact]
    public async Task Without_a_connection_string_FlowScope_stays_in_memory()
    {
        await using var host = await TestHost.StartAsync("host-a", connectionString: null, RedisStack.NewPrefix());

        Assert.IsType<InMemoryTraceStore>(host.Services.GetRequiredService<ITraceStore>());
        Assert.False(host.Redis.IsEnabled);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/hello/x")).StatusCode);
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, report.Status);
    }

    [Fact]
    public async Task FlowScopes_kill_switch_also_keeps_Redis_untouched()
    {
        var prefix = RedisStack.NewPrefix();
        await using (var host = await TestHost.StartAsync("host-a", server.ConnectionString, prefix, settings: new Dictionary<string, string?> { ["FlowScope:Enabled"] = "false" }))
        {
            Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/hello/x")).StatusCode);
            Assert.Equal(0, host.Redis.Writer!.GetStats().Produced);
        }

        using var redis = await RedisStack.ConnectAsync(server);
        Assert.Empty(await redis.GetServers()[0].KeysAsync(pattern: prefix + "*").ToListAsync());
    }

    [Fact]
    public async Task Invalid_options_stop_the_host_with_a_message_naming_the_setting()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            TestHost.StartAsync("host-a", server.ConnectionString, RedisStack.NewPrefix(), o => o.MaxSpansPerEntry = 0));
        Assert.Contains("FlowScope:Redis:MaxSpansPerEntry", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Writer_counters_are_published_on_the_FlowScope_Redis_meter()
    {
        var prefix = RedisStack.NewPrefix();
        await using var host = await TestHost.StartAsync("host-a", server.ConnectionString, prefix);
        await host.Client.GetAsync("/hello/meter");
        await Eventually.WaitUntilAsync(() => host.Redis.Writer!.GetStats() is { Persisted: > 0, Waiting: 0 }, s_timeout, "persisted");

        var persisted = new Dictionary<string, long>();
        using var listener = new MeterListener();
        var meterFactory = host.Services.GetRequiredService<IMeterFactory>();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == RedisStreamsMetrics.MeterName && instrument.Meter.Scope == meterFactory)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => persisted[instrument.Name] = value);
        listener.Start();

        // Spans may still be reaching the writer (the wait above ends at the first persisted batch): the meter must
        // report the writer's count as it stood while it was observed, between two reads of it.
        var before = host.Redis.Writer!.GetStats().Persisted;
        listener.RecordObservableInstruments();
        var after = host.Redis.Writer!.GetStats().Persisted;

        Assert.InRange(persisted["flowscope.redis.spans.persisted"], before, after);
        Assert.Equal(0, persisted["flowscope.redis.spans.dropped"]);
    }
}
