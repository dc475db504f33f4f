using System.Net;
using System.Text.Json;
using FlowScope.Embedded.Redis.Tests.Infrastructure;

namespace FlowScope.Embedded.Redis.Tests;

/// <summary>Error traces outlive the main stream: their copies in the kept stream are found by id and loaded at start.</summary>
public class KeptTraceTests(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_error_trace_stays_retrievable_after_the_main_stream_has_moved_on()
    {
        var prefix = RedisStack.NewPrefix();
        string errorTrace;
        await using (var hostA = await TestHost.StartAsync("host-a", server.ConnectionString, prefix, o => o.KeptSettleDelay = TimeSpan.Zero))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, (await hostA.Client.GetAsync("/fail/order-7")).StatusCode);
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await hostA.Client.GetAsync($"/hello/{i}")).StatusCode);
            }

            await Eventually.WaitUntilAsync(() => hostA.Redis.Kept!.GetStats().Copied >= 1, s_timeout, "host A copied its error trace");
            using var errors = JsonDocument.Parse(await hostA.Client.GetStringAsync("/_flowscope/api/traces?status=error"));
            errorTrace = errors.RootElement.GetProperty("traces")[0].GetProperty("traceId").GetString()!;

            using var stats = JsonDocument.Parse(await hostA.Client.GetStringAsync("/_flowscope/api/stats"));
            var redisStats = stats.RootElement.GetProperty("extensions").GetProperty("redis");
            Assert.Equal(1, redisStats.GetProperty("keptCopied").GetDouble());
            Assert.Equal(0, redisStats.GetProperty("keptDropped").GetDouble());
        }

        using var redis = await RedisStack.ConnectAsync(server);
        var database = redis.GetDatabase();
        // Only the error trace was copied, and its copy expires with the kept retention (24 hours by default).
        Assert.Equal(1, await database.StreamLengthAsync(prefix + ":kept"));
        var ttl = await database.KeyTimeToLiveAsync(prefix + ":index:kept:" + errorTrace);
        Assert.InRange(ttl!.Value, TimeSpan.FromHours(23), TimeSpan.FromHours(24));

        // The main stream moves on with the traffic (MaxStreamEntries); here it is gone altogether, with its index.
        await database.KeyDeleteAsync(prefix + ":spans");
        await database.KeyDeleteAsync(prefix + ":index:trace:" + errorTrace);

        await using var hostB = await TestHost.StartAsync("host-b", server.ConnectionString, prefix);
        await Eventually.WaitUntilAsync(() => hostB.Redis.Reader!.CaughtUp, s_timeout, "host B loaded the history");
        using var listed = JsonDocument.Parse(await hostB.Client.GetStringAsync("/_flowscope/api/traces?limit=100"));
        var traces = listed.RootElement.GetProperty("traces").EnumerateArray().ToList();
        var trace = Assert.Single(traces);
        Assert.Equal(errorTrace, trace.GetProperty("traceId").GetString());
        Assert.Equal("error", trace.GetProperty("status").GetString());
        Assert.Equal("host-a", trace.GetProperty("instance").GetString());

        using var detail = JsonDocument.Parse(await hostB.Client.GetStringAsync($"/_flowscope/api/traces/{errorTrace}"));
        Assert.Contains(detail.RootElement.GetProperty("spans").EnumerateArray(),
            s => s.GetProperty("name").GetString()!.Contains("/fail/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_trace_the_local_store_no_longer_holds_is_found_through_its_kept_copy()
    {
        var prefix = RedisStack.NewPrefix();
        await using var host = await TestHost.StartAsync("host-a", server.ConnectionString, prefix, o =>
        {
            o.KeptSettleDelay = TimeSpan.Zero;
            o.EnableConsumerGroup = false; // no shared index: only the kept copy can answer
        });
        Assert.Equal(HttpStatusCode.InternalServerError, (await host.Client.GetAsync("/fail/lookup")).StatusCode);
        await Eventually.WaitUntilAsync(() => host.Redis.Kept!.GetStats().Copied >= 1, s_timeout, "the error trace was copied");

        using var redis = await RedisStack.ConnectAsync(server);
        var entries = await redis.GetDatabase().StreamRangeAsync(prefix + ":kept");
        var entry = Assert.Single(entries);
        Assert.Equal("error", entry["k"].ToString());
        var copy = Internal.StreamEntryFormat.Decode(entry).Batch.Decode();
        var traceId = copy[0].TraceId;

        // Looked up the way the store does when its local index has let the trace go.
        var store = (Internal.RedisTraceStore)host.Services.GetService(typeof(Storage.ITraceStore))!;
        var found = await store.LookUpKeptAsync(traceId);
        Assert.NotNull(found);
        Assert.Equal(copy.Count, found!.Spans.Count);
        Assert.True(found.Summary.ErrorCount > 0);
    }
}
