using System.Text.Json;

namespace FlowScope.Samples.Messenger.Tests;

/// <summary>
/// Two instances of the messenger as separate processes: their own data on one redis-server, FlowScope's shared
/// history on a three-master Redis Cluster spread over three shards (FlowScope:Redis:Shards=3).
/// </summary>
public sealed class RedisClusterTests(RedisServer redis, RedisCluster cluster) : IClassFixture<RedisServer>, IClassFixture<RedisCluster>
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Both_dashboards_list_both_instances_and_a_message_across_them_is_one_trace_on_the_cluster()
    {
        Dictionary<string, string?> Settings(string instance) => new()
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["FlowScope:InstanceName"] = instance,
            ["FlowScope:Redis:ConnectionString"] = cluster.ConnectionString,
            ["FlowScope:Redis:Shards"] = "3",
            ["FlowScope:Redis:PollInterval"] = "00:00:00.200",
        };

        await using var first = await MessengerHost.StartProcessAsync(Settings("messenger-1"));
        await using var second = await MessengerHost.StartProcessAsync(Settings("messenger-2"));
        await using var ada = await first.RegisterAsync("ada");
        await using var bob = await second.RegisterAsync("bob");
        var adaSocket = await ada.ConnectAsync();
        var bobSocket = await bob.ConnectAsync();
        await Eventually.TrueAsync(async () =>
        {
            var members = JsonDocument.Parse(await ada.Http.GetStringAsync("/api/rooms/general/members")).RootElement;
            return members.EnumerateArray().Any(m => m.GetProperty("userName").GetString() == "bob" && m.GetProperty("online").GetBoolean());
        }, s_timeout, "bob shows online on the first instance");

        await adaSocket.SendAsync(new { type = "send", room = "general", text = "across the cluster", clientId = "c1" });
        var ack = await adaSocket.NextAsync(f => f.Type == "ack" && f["clientId"] == "c1");
        await bobSocket.NextAsync(f => f.Type == "message" && f["clientId"] == "c1");
        var traceId = ack["traceId"]!;

        // Each dashboard shows the message as one trace: the first instance's receipt and the second's delivery to bob.
        foreach (var host in new[] { first, second })
        {
            var spans = await host.TraceAsync(
                traceId,
                s => s.Any(x => x.Name == "receive message" && x.Instance == "messenger-1")
                    && s.Any(x => x.Name == "socket deliver" && x["messenger.recipient"] == "bob" && x["messenger.delivery"] == "delivered" && x.Instance == "messenger-2"),
                "the message's trace with both instances' parts");
            Assert.Single(spans, s => s.Name == "receive message");
        }

        // Each dashboard lists both instances' traces (the registrations above are requests on each).
        foreach (var host in new[] { first, second })
        {
            await Eventually.TrueAsync(async () =>
            {
                using var json = JsonDocument.Parse(await host.Dashboard.GetStringAsync("/_flowscope/api/traces?limit=200"));
                var instances = json.RootElement.GetProperty("traces").EnumerateArray().Select(t => t.GetProperty("instance").GetString()).ToHashSet();
                return instances.Contains("messenger-1") && instances.Contains("messenger-2");
            }, s_timeout, "both instances' traces listed");
        }

        // The history is spread: every master holds FlowScope keys, and they are its shard's only.
        for (var node = 0; node < RedisCluster.MasterCount; node++)
        {
            var keys = (await cluster.NodeCommandAsync(node, "KEYS", "flowscope:*")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains(keys, k => k.EndsWith(":spans", StringComparison.Ordinal));
            Assert.Single(keys.Select(k => k[..(k.IndexOf('}', StringComparison.Ordinal) + 1)]).Distinct());
        }

        // And each instance accounts for every span it handed to Redis.
        foreach (var host in new[] { first, second })
        {
            using var stats = JsonDocument.Parse(await host.Dashboard.GetStringAsync("/_flowscope/api/stats"));
            var r = stats.RootElement.GetProperty("extensions").GetProperty("redis");
            Assert.Equal(r.GetProperty("produced").GetDouble(), r.GetProperty("persisted").GetDouble() + r.GetProperty("waiting").GetDouble() + r.GetProperty("dropped").GetDouble());
            Assert.Equal(0, r.GetProperty("dropped").GetDouble());
        }
    }
}
