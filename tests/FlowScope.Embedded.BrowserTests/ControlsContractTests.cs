using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>
/// The Controls view against a scripted operator API (Playwright routes): the answers a real server gives only in
/// rare states — a stale antiforgery token, too many injections, a refused rate, a caller who may not operate.
/// </summary>
[Collection(BrowserSuite.Name)]
public sealed class ControlsContractTests(BrowserFixture fixture)
{
    [Fact]
    public async Task Changes_carry_the_antiforgery_token_and_are_retried_once_with_a_fresh_one()
    {
        var api = new FakeOperatorApi { RejectNextPostAsAntiforgery = true };
        await using var d = await OpenAsync(api);
        var page = d.Page;

        await page.SelectOptionAsync("#fi-target", "middleware:AuthMiddleware");
        await page.FillAsync("#fi-delay", "250");
        await page.ClickAsync("#fi-submit");

        var row = page.Locator("#fi-table tr[data-fault-id='f1']");
        await Expect(row).ToContainTextAsync("AuthMiddleware");
        await Expect(row).ToContainTextAsync("delay 250 ms");
        await Expect(page.Locator("#fi-error")).ToHaveTextAsync("Injection f1 active.");

        // The first POST carried the first token and was refused; the UI asked api/operator again and retried.
        Assert.Equal(["token-1", "token-2"], api.PostTokens);
        Assert.True(api.OperatorCalls >= 2);
        var body = JsonNode.Parse(api.LastFaultBody!)!;
        Assert.Equal("middleware", (string?)body["kind"]);
        Assert.Equal("AuthMiddleware", (string?)body["component"]);
        Assert.Equal(250, (int?)body["delayMs"]);
        Assert.Null(body["failureRate"]);
        Assert.Equal(300, (int?)body["durationSeconds"]);

        // Stop sends DELETE api/faults/f1 with the (new) token.
        await row.Locator("button", new() { HasText = "Stop" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        Assert.Equal("token-2", api.DeleteTokens.Single());
        d.AssertNoErrorsButRefusedRequests();
    }

    [Fact]
    public async Task Refused_changes_show_the_problem_details_next_to_the_control_that_failed()
    {
        var api = new FakeOperatorApi { RejectPostsWithConflict = true };
        await using var d = await OpenAsync(api);
        var page = d.Page;

        // Checked in the browser first: nothing to inject.
        await page.SelectOptionAsync("#fi-target", "queue:emails");
        await page.ClickAsync("#fi-submit");
        await Expect(page.Locator("#fi-error")).ToHaveTextAsync("Set a delay, a failure rate, or both.");
        Assert.Null(api.LastFaultBody);

        // The server's 409: its title and detail next to the form's button.
        await page.FillAsync("#fi-failure", "50");
        await page.SelectOptionAsync("#fi-unit", "hits");
        await page.FillAsync("#fi-limit", "3");
        await page.ClickAsync("#fi-submit");
        await Expect(page.Locator("#fi-error")).ToHaveTextAsync("Too many active injections — At most 10 injections may be active at once.");
        var body = JsonNode.Parse(api.LastFaultBody!)!;
        Assert.Equal(0.5, (double?)body["failureRate"]);
        Assert.Equal(3, (int?)body["maxHits"]);
        Assert.Null(body["durationSeconds"]);

        // A rate refused by the server: shown in the simulator's row, the input marked invalid.
        var sim = page.Locator("#sim-table tr[data-simulator='chat']");
        await sim.Locator(".sim-rate").FillAsync("3");
        await sim.Locator("button", new() { HasText = "apply rate" }).ClickAsync();
        await Expect(sim.Locator(".ctl-error")).ToHaveTextAsync("Invalid rate — Too fast for this host. (ratePerSecond)");
        await Expect(sim.Locator(".sim-rate")).ToHaveAttributeAsync("aria-invalid", "true");

        // Out of the simulator's range: refused in the browser without a request.
        var posts = api.SimulatorPosts;
        await sim.Locator(".sim-rate").FillAsync("50");
        await sim.Locator("button", new() { HasText = "apply rate" }).ClickAsync();
        await Expect(sim.Locator(".ctl-error")).ToHaveTextAsync("The rate must be between 0.01 and 5 runs per second.");
        Assert.Equal(posts, api.SimulatorPosts);
        d.AssertNoErrorsButRefusedRequests();
    }

    [Fact]
    public async Task A_caller_who_may_not_operate_sees_why_and_gets_disabled_controls()
    {
        var api = new FakeOperatorApi { CanOperate = false, Reason = "Operator actions are allowed from loopback only." };
        api.Faults.Add(FakeOperatorApi.Fault("f7", "endpoint", "GET /orders/{id}", delayMs: 100, maxDelayMs: 400));
        await using var d = await OpenAsync(api);
        var page = d.Page;

        await Expect(page.Locator("#controls-access")).ToHaveTextAsync("read-only — Operator actions are allowed from loopback only.");
        await Expect(page.Locator("#fi-note")).ToContainTextAsync("Operator actions are allowed from loopback only.");
        await Expect(page.Locator("#fi-form fieldset")).ToBeDisabledAsync();
        await Expect(page.Locator("#fi-submit")).ToBeDisabledAsync();
        var row = page.Locator("#fi-table tr[data-fault-id='f7']");
        await Expect(row).ToContainTextAsync("delay 100–400 ms (random)");
        await Expect(row.Locator("button", new() { HasText = "Stop" })).ToBeDisabledAsync();
        await Expect(page.Locator("#fi-stop-all")).ToBeDisabledAsync();
        var sim = page.Locator("#sim-table tr[data-simulator='chat']");
        await Expect(sim.Locator(".sim-start")).ToBeDisabledAsync();
        await Expect(page.Locator("#sim-note")).ToContainTextAsync("loopback only");
        Assert.Empty(api.PostTokens);
        d.AssertNoErrors();
    }

    [Fact]
    public async Task A_server_without_simulators_explains_how_to_register_one()
    {
        var api = new FakeOperatorApi();
        api.Simulators.Clear();
        await using var d = await OpenAsync(api);
        await Expect(d.Page.Locator("#sim-empty")).ToContainTextAsync("AddFlowScope().AddSimulator(");
        await Expect(d.Page.Locator("#sim-table")).ToBeHiddenAsync();
        d.AssertNoErrors();
    }

    private async Task<DashboardPage> OpenAsync(FakeOperatorApi api)
    {
        var d = await DashboardPage.OpenAsync(fixture, new Uri(fixture.App.Dashboard, "?view=controls"), beforeNavigation: api.AttachAsync);
        await Expect(d.Page.Locator("#view-controls .controls-bar")).ToBeVisibleAsync();
        return d;
    }
}

/// <summary>A scripted stand-in for api/operator, api/faults and api/simulators.</summary>
internal sealed class FakeOperatorApi
{
    private const string HeaderName = "X-FlowScope-Antiforgery";
    private readonly Lock _lock = new();
    private int _tokenVersion = 1;
    private int _nextId = 1;

    public bool CanOperate { get; init; } = true;

    public string? Reason { get; init; }

    public bool RejectNextPostAsAntiforgery { get; set; }

    public bool RejectPostsWithConflict { get; init; }

    public int OperatorCalls { get; private set; }

    public int SimulatorPosts { get; private set; }

    public List<string?> PostTokens { get; } = [];

    public List<string?> DeleteTokens { get; } = [];

    public string? LastFaultBody { get; private set; }

    public List<JsonObject> Faults { get; } = [];

    public List<JsonObject> Simulators { get; } =
    [
        new JsonObject
        {
            ["name"] = "chat", ["description"] = "Users chatting", ["running"] = false, ["ratePerSecond"] = 1.0,
            ["maxRatePerSecond"] = 5.0, ["runs"] = 0, ["failures"] = 0, ["lastError"] = null, ["lastRunAt"] = null,
        },
    ];

    public static JsonObject Fault(string id, string kind, string component, int delayMs = 0, int maxDelayMs = 0, double failureRate = 0) => new()
    {
        ["id"] = id, ["kind"] = kind, ["component"] = component, ["delayMs"] = delayMs, ["maxDelayMs"] = maxDelayMs,
        ["failureRate"] = failureRate, ["createdAt"] = DateTimeOffset.UtcNow.ToString("O"),
        ["expiresAt"] = DateTimeOffset.UtcNow.AddMinutes(5).ToString("O"), ["maxHits"] = null, ["hits"] = 0,
        ["delaysInjected"] = 0, ["failuresInjected"] = 0,
    };

    public async Task AttachAsync(IPage page)
    {
        await page.RouteAsync("**/_flowscope/api/operator", route => route.FulfillAsync(Json(200, Operator())));
        await page.RouteAsync("**/_flowscope/api/faults**", route => route.FulfillAsync(HandleFaults(route.Request)));
        await page.RouteAsync("**/_flowscope/api/simulators**", route => route.FulfillAsync(HandleSimulators(route.Request)));
    }

    private JsonObject Operator()
    {
        lock (_lock)
        {
            OperatorCalls++;
            return new JsonObject
            {
                ["canOperate"] = CanOperate, ["reason"] = Reason, ["faultInjection"] = true,
                ["antiforgery"] = new JsonObject { ["headerName"] = HeaderName, ["token"] = $"token-{_tokenVersion}" },
            };
        }
    }

    private string? Token(IRequest request) => request.Headers.TryGetValue(HeaderName.ToLowerInvariant(), out var v) ? v : null;

    private bool TokenValid(IRequest request) => Token(request) == $"token-{_tokenVersion}";

    private RouteFulfillOptions HandleFaults(IRequest request)
    {
        lock (_lock)
        {
            switch (request.Method)
            {
                case "GET":
                    return Json(200, new JsonObject
                    {
                        ["enabled"] = true,
                        ["targets"] = new JsonArray(
                            Target("middleware", "AuthMiddleware"), Target("middleware", "Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware"),
                            Target("endpoint", "GET /orders/{id}"), Target("queue", "emails"), Target("worker", "DigestWorker")),
                        ["faults"] = new JsonArray([.. Faults.Select(f => f.DeepClone())]),
                    });
                case "POST":
                    PostTokens.Add(Token(request));
                    if (RejectNextPostAsAntiforgery)
                    {
                        RejectNextPostAsAntiforgery = false;
                        _tokenVersion++;
                        return Problem(400, "Antiforgery token missing or invalid", "Reload the operator token.");
                    }

                    if (!TokenValid(request))
                    {
                        return Problem(400, "Antiforgery token missing or invalid", null);
                    }

                    LastFaultBody = request.PostData;
                    if (RejectPostsWithConflict)
                    {
                        return Problem(409, "Too many active injections", "At most 10 injections may be active at once.");
                    }

                    var body = JsonNode.Parse(request.PostData!)!;
                    var fault = Fault($"f{_nextId++}", (string)body["kind"]!, (string)body["component"]!, (int?)body["delayMs"] ?? 0, (int?)body["maxDelayMs"] ?? 0, (double?)body["failureRate"] ?? 0);
                    Faults.Add(fault);
                    return Json(201, fault.DeepClone());
                case "DELETE":
                    DeleteTokens.Add(Token(request));
                    if (!TokenValid(request))
                    {
                        return Problem(400, "Antiforgery token missing or invalid", null);
                    }

                    var id = new Uri(request.Url).Segments[^1];
                    if (id == "faults")
                    {
                        Faults.Clear();
                    }
                    else
                    {
                        Faults.RemoveAll(f => (string?)f["id"] == id);
                    }

                    return new RouteFulfillOptions { Status = 204 };
                default:
                    return Problem(405, "Method not allowed", null);
            }
        }
    }

    private RouteFulfillOptions HandleSimulators(IRequest request)
    {
        lock (_lock)
        {
            if (request.Method == "GET")
            {
                return Json(200, new JsonObject { ["simulators"] = new JsonArray([.. Simulators.Select(s => s.DeepClone())]) });
            }

            SimulatorPosts++;
            if (!TokenValid(request))
            {
                return Problem(400, "Antiforgery token missing or invalid", null);
            }

            var body = JsonNode.Parse(request.PostData!)!;
            if (body["ratePerSecond"] is not null)
            {
                return Problem(400, "Invalid rate", "Too fast for this host.", "ratePerSecond");
            }

            var sim = Simulators.Single(s => (string?)s["name"] == (string?)body["name"]);
            if (body["running"] is { } running)
            {
                sim["running"] = (bool)running;
            }

            return Json(200, sim.DeepClone());
        }
    }

    private static JsonObject Target(string kind, string name) => new() { ["kind"] = kind, ["name"] = name };

    private static RouteFulfillOptions Json(int status, JsonNode body) => new()
    {
        Status = status,
        ContentType = "application/json",
        Body = body.ToJsonString(),
    };

    private static RouteFulfillOptions Problem(int status, string title, string? detail, string? parameter = null) => new()
    {
        Status = status,
        ContentType = "application/problem+json",
        Body = JsonSerializer.Serialize(new { title, status, detail, parameter }),
    };
}
