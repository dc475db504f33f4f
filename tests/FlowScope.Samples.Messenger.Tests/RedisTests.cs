using System.Net.Http.Json;
using System.Text.Json;

namespace FlowScope.Samples.Messenger.Tests;

/// <summary>Two instances on different ports share a real redis-server: users, rooms, history and the Redis Streams bus.</summary>
public sealed class RedisTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task Two_instances_deliver_to_each_others_clients_and_each_message_keeps_one_trace_across_them()
    {
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = redis.ConnectionString };
        // Separate processes: an in-process pair would share one process-wide ActivityListener and so one view of every span.
        await using var first = await MessengerHost.StartProcessAsync(settings);
        await using var second = await MessengerHost.StartProcessAsync(settings);
        Assert.NotEqual(first.Address.Port, second.Address.Port);

        await using var ada = await first.RegisterAsync("ada");
        await using var bob = await second.RegisterAsync("bob");
        await using var carol = await second.RegisterAsync("carol"); // a member of #general who never connects
        var adaSocket = await ada.ConnectAsync();
        var bobSocket = await bob.ConnectAsync();

        // Presence is shared: the first instance sees bob, connected to the second, as online.
        await Eventually.TrueAsync(async () =>
        {
            var members = await ada.Http.GetFromJsonAsync<JsonElement>("/api/rooms/general/members");
            return members.EnumerateArray().Any(m => m.GetProperty("userName").GetString() == "bob" && m.GetProperty("online").GetBoolean());
        }, because: "bob shows online on the first instance");

        await adaSocket.SendAsync(new { type = "send", room = "general", text = "across instances", clientId = "x1" });
        var ack = await adaSocket.NextAsync(f => f.Type == "ack" && f["clientId"] == "x1");
        var atBob = await bobSocket.NextAsync(f => f.Type == "message" && f["clientId"] == "x1");
        Assert.Equal("across instances", atBob["text"]);
        await bobSocket.SendAsync(new { type = "send", room = "general", text = "got it", clientId = "y1" });
        var atAda = await adaSocket.NextAsync(f => f.Type == "message" && f["clientId"] == "y1");
        Assert.Equal("bob", atAda["author"]);

        // One trace id; each instance records its part: the first receives, stores and publishes to the stream…
        var traceId = ack["traceId"]!;
        Assert.Equal(traceId, atBob["traceId"]);
        // FlowScope persists to the same Redis, so each dashboard shows both instances' parts: split them by instance.
        var whole = await first.TraceAsync(traceId, s => s.Any(x => x.Name == "socket deliver" && x["messenger.recipient"] == "ada") && s.Any(x => x.Name == "deliver message") && s.Any(x => x.Name == "notify push" || x.Name == "notify email"), "the first instance's part");
        var firstInstance = whole.First(s => s.Name == "receive message").Instance;
        var there = whole.Where(s => s.Instance == firstInstance).ToList();
        var receive = Assert.Single(there, s => s.Name == "receive message");
        Assert.Equal("redis", there.Single(s => s.Name == "store message")["db.system"]);
        var send = Assert.Single(there, s => s.Name == "send messenger:stream");
        Assert.Equal(("producer", "redis", receive.SpanId), (send.Kind, send["messaging.system"], send.ParentSpanId));
        Assert.Single(there, s => s.Name == "process messenger:stream" && s.ParentSpanId == send.SpanId);
        // Each instance delivers to its own sockets only: bob has none on the first one.
        Assert.Equal("offline", there.Single(s => s.Name == "socket deliver" && s["messenger.recipient"] == "bob")["messenger.delivery"]);

        // Only carol, offline everywhere, is notified; bob is online on the other instance.
        Assert.Single(there, s => s.Name == "send notifications");
        Assert.Equal("carol", Assert.Single(there, s => s.Component == "worker" && s.Name.StartsWith("notify ", StringComparison.Ordinal))["messenger.recipient"]);

        // …and the second consumes the same entry in its own consumer group and delivers to bob's socket.
        var seenFromSecond = await second.TraceAsync(traceId, s => s.Any(x => x.Name == "socket deliver" && x["messenger.recipient"] == "bob" && x["messenger.delivery"] == "delivered") && s.Any(x => x.Name == "receive message"), "the whole trace, as the second instance's dashboard shows it");
        var here = seenFromSecond.Where(s => s.Instance != firstInstance).ToList();
        var process = Assert.Single(here, s => s.Name == "process messenger:stream");
        Assert.Equal(send.SpanId, process.ParentSpanId);
        Assert.StartsWith("delivery:", process["messaging.consumer.group.name"]);
        Assert.Equal("ok", process["flowscope.queue.outcome"]);
        var work = Assert.Single(here, s => s.Name == "deliver message");
        Assert.Equal(process.SpanId, work.ParentSpanId);
        Assert.Equal("delivered", here.Single(s => s.Name == "socket deliver" && s["messenger.recipient"] == "bob")["messenger.delivery"]);
        Assert.DoesNotContain(here, s => s.Name == "receive message");

        // One history: the first instance's dashboard also shows the second instance's delivery to bob.
        await first.TraceAsync(traceId, s => s.Any(x => x.Name == "socket deliver" && x["messenger.recipient"] == "bob" && x["messenger.delivery"] == "delivered"), "the second instance's part in the first instance's dashboard");
        Assert.Equal("offline", here.Single(s => s.Name == "socket deliver" && s["messenger.recipient"] == "ada")["messenger.delivery"]);

        // Shared state: the history is the same from both instances, and bob can sign in on the first one.
        var fromFirst = await ada.Http.GetFromJsonAsync<JsonElement>("/api/rooms/general/messages");
        var fromSecond = await bob.Http.GetFromJsonAsync<JsonElement>("/api/rooms/general/messages");
        Assert.Equal(["across instances", "got it"], fromFirst.EnumerateArray().Select(m => m.GetProperty("text").GetString()));
        Assert.Equal(fromFirst.GetRawText(), fromSecond.GetRawText());
        using var bobOnFirst = new HttpClient { BaseAddress = first.Address };
        var login = await bobOnFirst.PostAsJsonAsync("/api/account/login", new { userName = "bob", password = "correct horse" });
        Assert.Equal(System.Net.HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task When_redis_goes_away_a_message_gets_an_error_frame_and_the_connection_stays_usable()
    {
        var own = new RedisServer();
        await own.InitializeAsync();
        try
        {
            await using var host = await MessengerHost.StartAsync(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Redis"] = own.ConnectionString + ",asyncTimeout=1000,syncTimeout=1000,connectTimeout=1000,connectRetry=0",
            });
            await using var ada = await host.RegisterAsync("ada");
            var socket = await ada.ConnectAsync();
            await socket.SendAsync(new { type = "send", room = "general", text = "before", clientId = "b1" });
            await socket.NextAsync(f => f.Type == "ack" && f["clientId"] == "b1");

            await own.DisposeAsync();
            await socket.SendAsync(new { type = "send", room = "general", text = "during", clientId = "d1" });
            var error = await socket.NextAsync(f => f.Type == "error" && f["clientId"] == "d1");
            Assert.Equal("internal", error["code"]);

            await socket.SendAsync(new { type = "ping" });
            await socket.NextAsync(f => f.Type == "pong");
            Assert.Equal(System.Net.WebSockets.WebSocketState.Open, socket.Socket.State);
        }
        finally
        {
            await own.DisposeAsync();
        }
    }
}
