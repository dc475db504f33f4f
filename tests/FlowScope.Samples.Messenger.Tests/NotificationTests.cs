namespace FlowScope.Samples.Messenger.Tests;

/// <summary>Offline members are notified through a flaky simulated provider: retries with backoff, then dead letters.</summary>
public sealed class NotificationTests
{
    [Fact]
    public async Task A_failing_notification_is_retried_with_backoff_until_it_succeeds()
    {
        await using var host = await MessengerHost.StartAsync(new Dictionary<string, string?>
        {
            ["Messenger:Notifications:FailFirstAttempts"] = "2",
            ["FlowScope:Queues:notifications:MaxAttempts"] = "4",
        });
        await using var ada = await host.RegisterAsync("ada");
        await using var carol = await host.RegisterAsync("carol"); // a member of #general, never connected
        var socket = await ada.ConnectAsync();

        await socket.SendAsync(new { type = "send", room = "general", text = "carol, are you there?", clientId = "n1" });
        var ack = await socket.NextAsync(f => f.Type == "ack" && f["clientId"] == "n1");

        var spans = await host.TraceAsync(ack["traceId"]!, s => s.Any(x => x.Name == "process notifications" && x["flowscope.queue.outcome"] == "ok"), "the notification succeeded");
        var attempts = spans.Where(s => s.Name == "process notifications").OrderBy(s => int.Parse(s["flowscope.queue.attempt"]!)).ToList();
        Assert.Equal(["1", "2", "3"], attempts.Select(a => a["flowscope.queue.attempt"]));
        Assert.Equal(["retry_scheduled", "retry_scheduled", "ok"], attempts.Select(a => a["flowscope.queue.outcome"]));
        Assert.Equal(["error", "error", "unset"], attempts.Select(a => a.Status));
        var send = Assert.Single(spans, s => s.Name == "send notifications");
        Assert.All(attempts, a => Assert.Equal(send.SpanId, a.ParentSpanId));
        var work = spans.Where(s => s.Component == "worker" && s["flowscope.worker.name"] == "NotificationWorker").ToList();
        Assert.Equal(3, work.Count);
        Assert.All(work, w => Assert.Equal("carol", w["messenger.recipient"]));
        Assert.Equal(2, work.Count(w => w.Status == "error"));
        // The delivery worker saw carol offline: that is why she was notified.
        Assert.Single(spans, s => s.Name == "socket deliver" && s["messenger.recipient"] == "carol" && s["messenger.delivery"] == "offline");
    }

    [Fact]
    public async Task A_notification_that_always_fails_is_dead_lettered_after_the_last_attempt()
    {
        await using var host = await MessengerHost.StartAsync(new Dictionary<string, string?>
        {
            ["Messenger:Notifications:FailureRate"] = "1",
            ["FlowScope:Queues:notifications:MaxAttempts"] = "3",
        });
        await using var ada = await host.RegisterAsync("ada");
        await using var carol = await host.RegisterAsync("carol");
        var socket = await ada.ConnectAsync();

        await socket.SendAsync(new { type = "send", room = "general", text = "nobody home", clientId = "d1" });
        var ack = await socket.NextAsync(f => f.Type == "ack" && f["clientId"] == "d1");

        var spans = await host.TraceAsync(ack["traceId"]!, s => s.Any(x => x["flowscope.queue.outcome"] == "dead_lettered"), "the notification was dead-lettered");
        var attempts = spans.Where(s => s.Name == "process notifications").OrderBy(s => int.Parse(s["flowscope.queue.attempt"]!)).ToList();
        Assert.Equal(["retry_scheduled", "retry_scheduled", "dead_lettered"], attempts.Select(a => a["flowscope.queue.outcome"]));
        Assert.All(attempts, a => Assert.Equal("error", a.Status));
        Assert.All(attempts, a => Assert.Contains("exception", a.Events));

        // The message itself was delivered normally; only the notification failed.
        Assert.Single(spans, s => s.Name == "socket deliver" && s["messenger.recipient"] == "ada" && s["messenger.delivery"] == "delivered");
        Assert.Equal("unset", spans.Single(s => s.Name == "receive message").Status);
    }
}
