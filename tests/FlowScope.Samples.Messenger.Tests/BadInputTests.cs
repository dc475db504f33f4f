using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;

namespace FlowScope.Samples.Messenger.Tests;

/// <summary>Bad input gets a clear error (an error frame or problem details); the connection and the server stay healthy.</summary>
public sealed class BadInputTests
{
    [Fact]
    public async Task Bad_frames_get_error_frames_and_the_same_connection_keeps_working()
    {
        await using var host = await MessengerHost.StartAsync(new Dictionary<string, string?> { ["Messenger:MaxFrameBytes"] = "1024", ["Messenger:MaxMessageLength"] = "100" });
        await using var ada = await host.RegisterAsync("ada");
        await using var bob = await host.RegisterAsync("bob");
        var socket = await ada.ConnectAsync();
        var bobSocket = await bob.ConnectAsync();

        async Task<Frame> ErrorFor(Func<Task> send, string code)
        {
            await send();
            var error = await socket.NextAsync(f => f.Type == "error");
            Assert.True(error["code"] == code, $"expected {code}, got {error}");
            Assert.False(string.IsNullOrWhiteSpace(error["message"]));
            return error;
        }

        await ErrorFor(() => socket.SendTextAsync("{\"type\":\"send\",\"room\":\"general\",\"text\":\"" + new string('x', 5000) + "\"}"), "too_large");
        await ErrorFor(() => socket.SendTextAsync("{not json"), "malformed");
        await ErrorFor(() => socket.SendTextAsync("[1,2,3]"), "malformed");
        await ErrorFor(() => socket.Socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None), "unsupported");
        await ErrorFor(() => socket.SendAsync(new { type = "shout", room = "general" }), "unknown_type");
        var unknownRoom = await ErrorFor(() => socket.SendAsync(new { type = "send", room = "no-such-room", text = "hi", clientId = "u1" }), "unknown_room");
        Assert.Equal("u1", unknownRoom["clientId"]);
        await ErrorFor(() => socket.SendAsync(new { type = "send", room = "../../etc", text = "hi" }), "unknown_room");
        await ErrorFor(() => socket.SendAsync(new { type = "send", room = "dev", text = "not joined" }), "not_member");
        await ErrorFor(() => socket.SendAsync(new { type = "send", room = "general", text = "   " }), "invalid_text");
        await ErrorFor(() => socket.SendAsync(new { type = "send", room = "general", text = new string('y', 101) }), "invalid_text");
        // A frame split over several WebSocket fragments is put back together.
        var fragmented = Encoding.UTF8.GetBytes("{\"type\":\"ping\"}");
        await socket.Socket.SendAsync(fragmented.AsMemory(0, 5), WebSocketMessageType.Text, false, CancellationToken.None);
        await socket.Socket.SendAsync(fragmented.AsMemory(5), WebSocketMessageType.Text, true, CancellationToken.None);
        await socket.NextAsync(f => f.Type == "pong");

        // Still open, still delivering; nothing of the rejected traffic reached bob.
        Assert.Equal(WebSocketState.Open, socket.Socket.State);
        await socket.SendAsync(new { type = "send", room = "general", text = "still here", clientId = "ok1" });
        await socket.NextAsync(f => f.Type == "ack" && f["clientId"] == "ok1");
        var atBob = await bobSocket.NextAsync(f => f.Type == "message");
        Assert.Equal("still here", atBob["text"]);

        // A rejected message is traced too, as an error, with the reason.
        // (unknown room ×2, not a member, invalid text ×2; frames that are not messages at all start no trace)
        await Eventually.TrueAsync(async () =>
        {
            var traces = await host.Dashboard.GetFromJsonAsync<System.Text.Json.JsonElement>("/_flowscope/api/traces?name=receive%20message&status=error&limit=100");
            return traces.GetProperty("traces").GetArrayLength() == 5;
        }, because: "five rejected messages traced as errors");
    }

    [Fact]
    public async Task A_flood_is_limited_per_connection_and_every_accepted_message_is_delivered()
    {
        await using var host = await MessengerHost.StartAsync(new Dictionary<string, string?>
        {
            ["Messenger:SocketBurst"] = "5",
            ["Messenger:SocketMessagesPerSecond"] = "1",
        });
        await using var ada = await host.RegisterAsync("ada");
        await using var bob = await host.RegisterAsync("bob");
        var socket = await ada.ConnectAsync();
        var bobSocket = await bob.ConnectAsync();

        const int Sent = 40;
        for (var i = 0; i < Sent; i++)
        {
            await socket.SendAsync(new { type = "send", room = "general", text = $"flood {i}", clientId = $"f{i}" });
        }

        // Every message is answered: an ack, or an error saying it was not sent.
        var answers = await socket.CollectAsync(f => f.Type is "ack" or "error", Sent);
        var accepted = answers.Where(a => a.Type == "ack").Select(a => a["clientId"]!).ToHashSet();
        var limited = answers.Where(a => a.Type == "error").ToList();
        Assert.All(limited, e => Assert.Equal("rate_limited", e["code"]));
        Assert.InRange(accepted.Count, 5, 10);
        Assert.Equal(Sent, accepted.Count + limited.Select(e => e["clientId"]).Distinct().Count());

        // bob receives exactly the accepted ones, in order.
        var received = await bobSocket.CollectAsync(f => f.Type == "message", accepted.Count);
        Assert.Equal(accepted.OrderBy(c => int.Parse(c[1..])), received.Select(m => m["clientId"]!));
        Assert.Equal(WebSocketState.Open, socket.Socket.State);
        await socket.SendAsync(new { type = "ping" });
        await socket.NextAsync(f => f.Type == "pong");
    }

    [Fact]
    public async Task Sockets_without_a_valid_cookie_or_from_another_origin_are_refused_before_the_upgrade()
    {
        await using var host = await MessengerHost.StartAsync();
        using var anonymous = new ClientWebSocket();
        anonymous.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => anonymous.ConnectAsync(host.SocketUri, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.HttpStatusCode);

        using var forged = new ClientWebSocket();
        forged.Options.CollectHttpResponseDetails = true;
        forged.Options.SetRequestHeader("Cookie", "messenger.auth=forged-value");
        await Assert.ThrowsAsync<WebSocketException>(() => forged.ConnectAsync(host.SocketUri, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, forged.HttpStatusCode);

        await using var ada = await host.RegisterAsync("ada");
        using var crossSite = new ClientWebSocket();
        crossSite.Options.CollectHttpResponseDetails = true;
        crossSite.Options.Cookies = ada.Cookies;
        crossSite.Options.SetRequestHeader("Origin", "http://evil.example");
        await Assert.ThrowsAsync<WebSocketException>(() => crossSite.ConnectAsync(host.SocketUri, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Forbidden, crossSite.HttpStatusCode);

        // A plain GET is told to upgrade; the server is fine and the user can still connect.
        var plain = await ada.Http.GetAsync("/ws");
        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
        Assert.Equal("application/problem+json", plain.Content.Headers.ContentType?.MediaType);
        var socket = await ada.ConnectAsync();
        await socket.SendAsync(new { type = "ping" });
        await socket.NextAsync(f => f.Type == "pong");
    }
}
