using System.Net.Http.Json;
using System.Text.Json;

namespace FlowScope.Samples.Messenger.Tests;

/// <summary>Two users, real WebSocket clients, the whole pipeline, and the trace it leaves in /_flowscope.</summary>
public sealed class MessagingTests
{
    [Fact]
    public async Task Two_users_exchange_messages_and_each_message_is_one_trace_from_receive_to_every_recipient_socket()
    {
        await using var host = await MessengerHost.StartAsync();
        await using var ada = await host.RegisterAsync("ada");
        await using var bob = await host.RegisterAsync("bob");
        var adaSocket = await ada.ConnectAsync();
        var bobSocket = await bob.ConnectAsync();
        await adaSocket.NextAsync(f => f.Type == "presence" && f["user"] == "bob" && f["online"] == "true");

        await adaSocket.SendAsync(new { type = "send", room = "general", text = "hello bob", clientId = "a1" });
        var ack = await adaSocket.NextAsync(f => f.Type == "ack" && f["clientId"] == "a1");
        var atBob = await bobSocket.NextAsync(f => f.Type == "message" && f["clientId"] == "a1");
        var echo = await adaSocket.NextAsync(f => f.Type == "message" && f["clientId"] == "a1");
        var receipt = await adaSocket.NextAsync(f => f.Type == "receipt" && f["id"] == ack["id"]);
        Assert.Equal("hello bob", atBob["text"]);
        Assert.Equal("ada", atBob["author"]);
        Assert.Equal(ack["id"], echo["id"]);
        Assert.Equal("[\"bob\"]", receipt["deliveredTo"]);
        Assert.Equal("1", receipt["recipients"]);

        await bobSocket.SendAsync(new { type = "send", room = "general", text = "hi ada", clientId = "b1" });
        var reply = await adaSocket.NextAsync(f => f.Type == "message" && f["clientId"] == "b1");
        Assert.Equal("bob", reply["author"]);
        var replyAck = await bobSocket.NextAsync(f => f.Type == "ack" && f["clientId"] == "b1");
        Assert.NotEqual(ack["traceId"], replyAck["traceId"]);

        // The trace of ada's message: receive → validate → store → queue (send, process) → worker → one delivery per recipient.
        var traceId = ack["traceId"]!;
        Assert.Equal(traceId, atBob["traceId"]);
        var spans = await host.TraceAsync(traceId, s => s.Count(x => x.Name == "socket deliver") == 2 && s.Any(x => x.Name == "deliver message"), "the message's trace");
        var receive = Assert.Single(spans, s => s.Name == "receive message");
        Assert.Null(receive.ParentSpanId);
        Assert.Equal("server", receive.Kind);
        Assert.Equal("ada", receive["messenger.user"]);
        var validate = Assert.Single(spans, s => s.Name == "validate message");
        Assert.Equal(receive.SpanId, validate.ParentSpanId);
        Assert.Equal("accept", validate["flowscope.step.decision"]);
        // With SQLite the step is plain; the INSERT below it is recorded by FlowScope's EF Core capture.
        var store = Assert.Single(spans, s => s.Name == "store message");
        Assert.NotEqual("database", store.Component);
        Assert.Equal(receive.SpanId, store.ParentSpanId);
        var send = Assert.Single(spans, s => s.Name == "send messages");
        Assert.Equal(("queue", "producer"), (send.Component, send.Kind));
        Assert.Equal(receive.SpanId, send.ParentSpanId);
        var process = Assert.Single(spans, s => s.Name == "process messages");
        Assert.Equal(("queue", "consumer", "ok"), (process.Component, process.Kind, process["flowscope.queue.outcome"]));
        Assert.Equal(send.SpanId, process.ParentSpanId);
        var worker = Assert.Single(spans, s => s.Name == "deliver message");
        Assert.Equal("worker", worker.Component);
        Assert.Equal("DeliveryWorker", worker["flowscope.worker.name"]);
        Assert.Equal(process.SpanId, worker.ParentSpanId);
        var deliveries = spans.Where(s => s.Name == "socket deliver").ToList();
        Assert.All(deliveries, d => Assert.Equal(worker.SpanId, d.ParentSpanId));
        Assert.All(deliveries, d => Assert.Equal("delivered", d["messenger.delivery"]));
        Assert.Equal(["ada", "bob"], deliveries.Select(d => d["messenger.recipient"]).Order());

        // Both messages are in the history, with bob's receipt on ada's message.
        var history = await ada.Http.GetFromJsonAsync<JsonElement>("/api/rooms/general/messages");
        var texts = history.EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToList();
        Assert.Equal(["hello bob", "hi ada"], texts);
        Assert.Equal("bob", history[0].GetProperty("deliveredTo")[0].GetString());
        var olderThanReply = await ada.Http.GetFromJsonAsync<JsonElement>($"/api/rooms/general/messages?before={replyAck["id"]}&limit=1");
        Assert.Equal("hello bob", Assert.Single(olderThanReply.EnumerateArray()).GetProperty("text").GetString());
        var newest = await ada.Http.GetFromJsonAsync<JsonElement>("/api/rooms/general/messages?limit=1");
        Assert.Equal("hi ada", Assert.Single(newest.EnumerateArray()).GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_bot_command_is_answered_in_the_same_trace_with_its_decision_recorded_step_by_step()
    {
        await using var host = await MessengerHost.StartAsync();
        await using var ada = await host.RegisterAsync("ada");
        var socket = await ada.ConnectAsync();

        await socket.SendAsync(new { type = "send", room = "general", text = "/roll 3d6", clientId = "r1" });
        var ack = await socket.NextAsync(f => f.Type == "ack" && f["clientId"] == "r1");
        var answer = await socket.NextAsync(f => f.Type == "message" && f["author"] == "bot");
        Assert.StartsWith("@ada 🎲 ", answer["text"]);
        Assert.Equal(ack["traceId"], answer["traceId"]);

        var spans = await host.TraceAsync(ack["traceId"]!, s => s.Count(x => x.Name == "deliver message") == 2, "command and answer delivered");
        var choose = Assert.Single(spans, s => s.Name == "choose handler");
        Assert.Equal(("custom", "roll", "exact match"), (choose.Component, choose["flowscope.step.decision"], choose["flowscope.step.reason"]));
        Assert.Contains("observation", choose.Events);
        Assert.Single(spans, s => s.Name == "parse command" && s["flowscope.step.decision"] == "parsed");
        Assert.Single(spans, s => s.Name == "compose answer" && s["flowscope.step.decision"] == "reply");
        var botWork = Assert.Single(spans, s => s.Name == "answer command");
        Assert.Equal("BotWorker", botWork["flowscope.worker.name"]);
        Assert.Equal("process bot", spans.Single(s => s.SpanId == botWork.ParentSpanId).Name);
        Assert.Equal(2, spans.Count(s => s.Name == "store message"));

        await socket.SendAsync(new { type = "send", room = "general", text = "/dance", clientId = "r2" });
        var unknown = await socket.NextAsync(f => f.Type == "message" && f["author"] == "bot" && f["text"]!.Contains("/dance"));
        Assert.Equal("@ada I don't know /dance. Try /help.", unknown["text"]);
    }
}
