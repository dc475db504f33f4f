using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.AspNetCore.TestHost;

namespace FlowScope.Samples.Messenger.Tests;

/// <summary>The sample's data in SQLite through EF Core, as FlowScope records it: the room list's N+1 and its fix, and no accidental N+1 elsewhere.</summary>
public sealed class DatabaseTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_room_list_loads_in_one_query_when_fixed_and_is_marked_N_plus_one_when_not(bool fixNPlusOne)
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Testing");
            web.UseSetting("Messenger:FixNPlusOne", fixNPlusOne ? "true" : "false");
            web.ConfigureTestServices(services => services.AddFlowScopeTesting());
        });
        var capture = TraceCapture.For(factory.Services);
        using var client = factory.CreateDefaultClient(capture.CreateHandler(), new CookieContainerHandler());
        var registered = await client.PostAsJsonAsync("/api/account/register", new { userName = "ada", password = "correct horse" });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);

        var response = await client.GetAsync("/api/rooms");
        response.EnsureSuccessStatusCode();
        var trace = await capture.GetTraceAsync(response);

        trace.AssertNoErrors();
        if (fixNPlusOne)
        {
            trace.AssertNoNPlusOne().AssertAtMostDatabaseCommands(1);
        }
        else
        {
            // One query for the rooms, then one per room (six default rooms).
            trace.AssertNPlusOne().AssertDatabaseCommands(1 + 6);
        }
    }

    [Fact]
    public async Task Every_other_request_and_a_chat_message_issue_a_few_commands_and_no_N_plus_one()
    {
        await using var host = await MessengerHost.StartAsync(new Dictionary<string, string?> { ["Messenger:FixNPlusOne"] = "true" });
        await using var ada = await host.RegisterAsync("ada");
        await using var bob = await host.RegisterAsync("bob");
        var capture = host.Capture!;

        // (request, most database commands it may issue)
        var requests = new (Func<Task<HttpResponseMessage>> Send, int MaxCommands)[]
        {
            (() => ada.Http.GetAsync("/api/account/me"), 1),
            (() => ada.Http.GetAsync("/api/rooms"), 1),
            (() => ada.Http.GetAsync("/api/users"), 1),
            (() => ada.Http.PostAsJsonAsync("/api/rooms", new { name = "book-club", topic = "Chapter 3" }), 2),
            (() => bob.Http.PostAsync("/api/rooms/book-club/join", content: null), 3),
            (() => ada.Http.GetAsync("/api/rooms/general/members"), 2),
            (() => ada.Http.GetAsync("/api/rooms/general/messages"), 3),
            (() => ada.Http.PostAsJsonAsync("/api/account/login", new { userName = "ada", password = "correct horse" }), 1),
        };
        foreach (var (send, maxCommands) in requests)
        {
            var response = await send();
            Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage!.RequestUri}: {(int)response.StatusCode}");
            var trace = await capture.GetTraceAsync(response);
            trace.AssertNoErrors().AssertNoNPlusOne().AssertAtMostDatabaseCommands(maxCommands);
        }

        // A message's trace: validate, store, deliver to every member, record the receipts.
        var adaSocket = await ada.ConnectAsync();
        await bob.ConnectAsync();
        await adaSocket.SendAsync(new { type = "send", room = "general", text = "hello bob", clientId = "a1" });
        var ack = await adaSocket.NextAsync(f => f.Type == "ack" && f["clientId"] == "a1");
        await adaSocket.NextAsync(f => f.Type == "receipt" && f["id"] == ack["id"]);
        var message = await capture.GetTraceByIdAsync(ack["traceId"]!, until: t => t.FindSpans("worker", "deliver message").Count == 1 && t.DatabaseCommands.Count >= 5);
        message.AssertNoErrors().AssertNoNPlusOne().AssertAtMostDatabaseCommands(5).AssertQueueHandled("messages");
        var insert = Assert.Single(message.DatabaseCommands, c => c.GetAttribute("db.collection.name") == "Messages");
        Assert.Equal("sqlite", insert.GetAttribute("db.system.name"));
        Assert.Equal("store message", message.Spans.Single(s => s.SpanId == insert.ParentSpanId).Name);
    }
}
