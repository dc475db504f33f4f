using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace FlowScope.Samples.Messenger.Tests;

/// <summary>The MVC API: validation, the room filter, problem details, request ids, the rate limiter, cookies.</summary>
public sealed class HttpApiTests
{
    [Fact]
    public async Task Accounts_rooms_and_history_answer_with_problem_details_when_something_is_wrong()
    {
        await using var host = await MessengerHost.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = host.Address };

        var unauthorized = await anonymous.GetAsync("/api/rooms");
        await AssertProblem(unauthorized, HttpStatusCode.Unauthorized);

        var invalid = await anonymous.PostAsJsonAsync("/api/account/register", new { userName = "X!", password = "short" });
        var problem = await AssertProblem(invalid, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("UserName", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("Password", out _));

        await using var ada = await host.RegisterAsync("ada", "a good password");
        var taken = await anonymous.PostAsJsonAsync("/api/account/register", new { userName = "ada", password = "another password" });
        await AssertProblem(taken, HttpStatusCode.Conflict);
        var reserved = await anonymous.PostAsJsonAsync("/api/account/register", new { userName = "bot", password = "another password" });
        await AssertProblem(reserved, HttpStatusCode.Conflict);
        var wrong = await anonymous.PostAsJsonAsync("/api/account/login", new { userName = "ada", password = "not the password" });
        await AssertProblem(wrong, HttpStatusCode.Unauthorized);

        // Sign in from a second client: the cookie works for the API; the stored hash is not the password.
        using var second = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = host.Address };
        var login = await second.PostAsJsonAsync("/api/account/login", new { userName = "ADA ", password = "a good password" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var me = await second.GetFromJsonAsync<JsonElement>("/api/account/me");
        Assert.Equal("ada", me.GetProperty("userName").GetString());
        var account = await host.App.Services.GetRequiredService<Storage.IUserStore>().FindAsync("ada");
        Assert.DoesNotContain("a good password", account!.PasswordHash, StringComparison.Ordinal);

        var rooms = await ada.Http.GetFromJsonAsync<JsonElement>("/api/rooms");
        Assert.Equal(["books", "design", "dev", "general", "ops", "random"], rooms.EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.True(rooms.EnumerateArray().Single(r => r.GetProperty("name").GetString() == "general").GetProperty("joined").GetBoolean());

        await AssertProblem(await ada.Http.GetAsync("/api/rooms/nowhere/messages"), HttpStatusCode.NotFound);
        await AssertProblem(await ada.Http.GetAsync("/api/rooms/dev/messages"), HttpStatusCode.Forbidden);
        await AssertProblem(await ada.Http.GetAsync("/api/rooms/general/messages?limit=500"), HttpStatusCode.BadRequest);
        await AssertProblem(await ada.Http.PostAsJsonAsync("/api/rooms", new { name = "Bad Name!" }), HttpStatusCode.BadRequest);
        await AssertProblem(await ada.Http.PostAsJsonAsync("/api/rooms", new { name = "general" }), HttpStatusCode.Conflict);
        await AssertProblem(await ada.Http.GetAsync("/api/nothing-here"), HttpStatusCode.NotFound);

        var created = await ada.Http.PostAsJsonAsync("/api/rooms", new { name = "book-club", topic = "Chapter 3" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ada.Http.PostAsync("/api/rooms/dev/join", null)).StatusCode);
        var members = await ada.Http.GetFromJsonAsync<JsonElement>("/api/rooms/book-club/members");
        Assert.Equal(["ada", "bot"], members.EnumerateArray().Select(m => m.GetProperty("userName").GetString()));
        Assert.True(members[1].GetProperty("online").GetBoolean()); // the bot is always there

        Assert.Equal(HttpStatusCode.NoContent, (await ada.Http.PostAsync("/api/account/logout", null)).StatusCode);
        await AssertProblem(await ada.Http.GetAsync("/api/rooms"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Every_response_carries_a_request_id_and_a_plain_caller_id_is_kept()
    {
        await using var host = await MessengerHost.StartAsync();
        using var client = new HttpClient { BaseAddress = host.Address };

        using var mine = new HttpRequestMessage(HttpMethod.Get, "/api/rooms") { Headers = { { "X-Request-Id", "my-id.42" } } };
        var kept = await client.SendAsync(mine);
        Assert.Equal("my-id.42", kept.Headers.GetValues("X-Request-Id").Single());
        Assert.Equal("my-id.42", (await kept.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("requestId").GetString());

        using var hostile = new HttpRequestMessage(HttpMethod.Get, "/api/rooms") { Headers = { { "X-Request-Id", "<script>" + new string('a', 100) } } };
        var replaced = await client.SendAsync(hostile);
        Assert.Matches("^[0-9a-f]{32}$", replaced.Headers.GetValues("X-Request-Id").Single());

        var page = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("<title>FlowScope Messenger</title>", await page.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/app.js")).StatusCode);
    }

    [Fact]
    public async Task The_runtime_figures_for_the_soak_are_off_unless_turned_on()
    {
        await using (var host = await MessengerHost.StartAsync())
        {
            using var client = new HttpClient { BaseAddress = host.Address };
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/internal/runtime")).StatusCode);
        }

        await using (var host = await MessengerHost.StartAsync(new Dictionary<string, string?> { ["Messenger:RuntimeStats"] = "true" }))
        {
            using var client = new HttpClient { BaseAddress = host.Address };
            var figures = await client.GetFromJsonAsync<JsonElement>("/internal/runtime");
            Assert.True(figures.GetProperty("workingSetBytes").GetInt64() > 0);
            Assert.True(figures.GetProperty("committedBytes").GetInt64() >= 0);
            Assert.True(figures.GetProperty("totalAllocatedBytes").GetInt64() > 0);
            Assert.True(figures.GetProperty("gen0Collections").GetInt32() >= figures.GetProperty("gen2Collections").GetInt32());
            Assert.True(figures.TryGetProperty("serverGc", out _));
        }
    }

    [Fact]
    public async Task The_rate_limiter_answers_429_problem_details_with_retry_after()
    {
        await using var host = await MessengerHost.StartAsync(new Dictionary<string, string?> { ["Messenger:AuthRequestsPerMinute"] = "3" });
        using var client = new HttpClient { BaseAddress = host.Address };
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 5; i++)
        {
            last = await client.PostAsJsonAsync("/api/account/login", new { userName = "nobody", password = "whatever1" });
            statuses.Add(last.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        await AssertProblem(last!, HttpStatusCode.TooManyRequests);
        Assert.True(last!.Headers.RetryAfter is not null);
    }

    [Fact]
    public async Task The_chat_simulator_is_off_by_default_and_chats_through_the_pipeline_when_started_from_the_dashboard()
    {
        await using var host = await MessengerHost.StartAsync(new Dictionary<string, string?> { ["Messenger:Simulator:MessagesPerSecond"] = "50", ["Messenger:Simulator:Users"] = "3" });
        var chat = (await host.Dashboard.GetFromJsonAsync<JsonElement>("/_flowscope/api/simulators")).GetProperty("simulators")[0];
        Assert.Equal("chat", chat.GetProperty("name").GetString());
        Assert.False(chat.GetProperty("running").GetBoolean());
        Assert.Equal(50, chat.GetProperty("ratePerSecond").GetDouble());

        await using var ada = await host.RegisterAsync("ada");
        var socket = await ada.ConnectAsync();

        // As the dashboard does it: an antiforgery token (and its cookie, kept by the client) with every change.
        var antiforgery = (await host.Dashboard.GetFromJsonAsync<JsonElement>("/_flowscope/api/operator")).GetProperty("antiforgery");
        async Task<HttpResponseMessage> Control(object body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/_flowscope/api/simulators") { Content = JsonContent.Create(body) };
            request.Headers.Add(antiforgery.GetProperty("headerName").GetString()!, antiforgery.GetProperty("token").GetString());
            return await host.Dashboard.SendAsync(request);
        }

        using (var start = await Control(new { name = "chat", running = true }))
        {
            Assert.Equal(HttpStatusCode.OK, start.StatusCode);
        }

        // ada is in #general with the simulated users: their messages reach her socket.
        var simulated = await socket.NextAsync(f => f.Type == "message" && f["author"]!.StartsWith("sim-"));
        using (var stop = await Control(new { name = "chat", running = false, ratePerSecond = 5 }))
        {
            var stopped = await stop.Content.ReadFromJsonAsync<JsonElement>();
            Assert.False(stopped.GetProperty("running").GetBoolean());
            Assert.Equal(5, stopped.GetProperty("ratePerSecond").GetDouble());
            Assert.True(stopped.GetProperty("runs").GetInt64() >= 1);
        }

        using (var tooFast = await Control(new { name = "chat", ratePerSecond = 5_000 }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooFast.StatusCode);
        }

        var spans = await host.TraceAsync(simulated["traceId"]!, s => s.Any(x => x.Name == "socket deliver" && x["messenger.recipient"] == "ada"), "a simulated message delivered");
        var root = Assert.Single(spans, s => s.ParentSpanId is null);
        Assert.Equal("simulate chat", root.Name);
        Assert.Equal("simulator", root.Component);
        Assert.Equal("true", root["messenger.simulated"]);
    }

    private static async Task<JsonElement> AssertProblem(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{response.RequestMessage?.RequestUri}: {response.Content.Headers.ContentType} {body}");
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.True(problem.TryGetProperty("requestId", out _));
        return problem;
    }
}
