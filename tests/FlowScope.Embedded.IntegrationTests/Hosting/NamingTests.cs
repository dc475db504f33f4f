using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.IntegrationTests.Hosting;

/// <summary>Every hosting style names its requests, its stages and its flow-map nodes.</summary>
public sealed class NamingTests
{
    [Fact]
    public async Task Minimal_API_handlers_of_one_route_are_named_by_method_and_route_and_are_separate_map_nodes()
    {
        await using var app = await HostingApp.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/todos/")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await app.Client.PostAsJsonAsync("/todos/", new { title = "ship" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await app.Client.DeleteAsync("/todos/")).StatusCode);

        foreach (var method in new[] { "GET", "POST", "DELETE" })
        {
            var spans = await app.TraceNamedAsync(method + " /todos/");
            var root = spans.Single(s => s.Str("parentSpanId") is null);
            Assert.Equal("/todos/", root.Attr("http.route"));
            var endpoint = spans.Single(s => s.Str("component") == "endpoint");
            Assert.Equal(method + " /todos/", endpoint.Str("name"));
            Assert.Equal("/todos/", endpoint.Attr("http.route"));
        }

        var map = await app.GetJsonAsync("/_flowscope/api/map");
        var endpoints = map.GetProperty("nodes").EnumerateArray().Where(n => n.Str("component") == "endpoint").Select(n => n.Str("name")).ToArray();
        Assert.Contains("GET /todos/", endpoints);
        Assert.Contains("POST /todos/", endpoints);
        Assert.Contains("DELETE /todos/", endpoints);
    }

    [Fact]
    public async Task Controllers_and_Razor_Pages_beside_minimal_APIs_are_named_by_template_controller_and_action()
    {
        await using var app = await HostingApp.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/shop/orders/5")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await app.Client.PostAsJsonAsync("/shop/orders", new { sku = "a1" })).StatusCode);
        Assert.Contains("Status: open", await app.Client.GetStringAsync("/pages/status"), StringComparison.Ordinal);

        var get = await app.TraceNamedAsync("GET shop/orders/{id:int}");
        var endpoint = get.Single(s => s.Str("component") == "endpoint");
        Assert.Equal("GET shop/orders/{id:int}", endpoint.Str("name"));
        var controller = get.Single(s => s.Str("name") == "ShopOrdersController.Get");
        Assert.Equal("controller", controller.Str("component"));
        Assert.Equal(endpoint.Str("spanId"), controller.Str("parentSpanId"));
        Assert.Contains(get, s => s.Str("name") == "Get()" && s.Str("parentSpanId") == controller.Str("spanId"));

        var post = await app.TraceNamedAsync("POST shop/orders");
        Assert.Contains(post, s => s.Str("name") == "ShopOrdersController.Create");

        var page = await app.WaitForTraceAsync(t => t.Str("route") == "pages/status", "the Razor Page");
        Assert.Equal("GET pages/status", page.Str("name"));
        var pageSpans = await app.SpansAsync(page);
        var pageEndpoint = pageSpans.Single(s => s.Str("component") == "endpoint");
        Assert.Equal("pages/status", pageEndpoint.Str("name")); // a page answers several methods: one node
        var pageStage = pageSpans.Single(s => s.Str("component") == "controller" && s.Str("parentSpanId") == pageEndpoint.Str("spanId"));
        Assert.Equal("/Status", pageStage.Str("name"));

        var map = await app.GetJsonAsync("/_flowscope/api/map");
        var controllers = map.GetProperty("nodes").EnumerateArray().Where(n => n.Str("component") == "controller").Select(n => n.Str("name")).ToArray();
        Assert.Contains("ShopOrdersController.Get", controllers);
        Assert.Contains("ShopOrdersController.Create", controllers);
    }

    [Fact]
    public async Task MVC_without_endpoint_routing_names_requests_by_template_and_actions_by_controller()
    {
        await using var app = await LegacyHost.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await app.Client.PostAsJsonAsync("/legacy/articles", new { title = "First" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.PostAsJsonAsync("/legacy/articles/first-article/comments", new { body = "Nice" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await app.Client.PostAsync("/LegacyUsers/Create/12", null)).StatusCode);

        var expected = new (string Name, string Route, string Controller)[]
        {
            ("POST legacy/articles", "legacy/articles", "LegacyArticlesController.Create"),
            ("POST legacy/articles/{slug}/comments", "legacy/articles/{slug}/comments", "LegacyCommentsController.Create"),
            ("POST LegacyUsers/Create/{id?}", "LegacyUsers/Create/{id?}", "LegacyUsersController.Create"),
        };
        foreach (var (name, route, controllerName) in expected)
        {
            var summary = await app.WaitForAsync(name);
            Assert.Equal(route, summary.Str("route"));
            var spans = await app.SpansAsync(summary);
            var root = spans.Single(s => s.Str("parentSpanId") is null);
            Assert.Equal(route, root.Attr("http.route"));
            Assert.Equal(name, root.Str("name"));

            // The controller stage under the app's RouterMiddleware, holding binding, the action method and the result.
            var controller = spans.Single(s => s.Str("name") == controllerName);
            Assert.Equal("controller", controller.Str("component"));
            var router = spans.Single(s => s.Str("spanId") == controller.Str("parentSpanId"));
            Assert.Equal("RouterMiddleware", router.Str("name"));
            var steps = spans.Where(s => s.Str("parentSpanId") == controller.Str("spanId")).Select(s => s.Str("name")).ToArray();
            Assert.Contains("model binding", steps);
            Assert.Contains("Create()", steps);
            Assert.DoesNotContain(spans, s => s.Str("name")!.Contains("EndpointRouting", StringComparison.Ordinal));
        }

        // One node per controller and action (the three Create() methods no longer meet in one node).
        var map = await app.GetJsonAsync("/_flowscope/api/map");
        var controllers = map.GetProperty("nodes").EnumerateArray().Where(n => n.Str("component") == "controller").Select(n => n.Str("name")).ToArray();
        foreach (var (_, _, controllerName) in expected)
        {
            Assert.Contains(controllerName, controllers);
        }
    }

    /// <summary>The Startup-class app on a test server.</summary>
    internal sealed class LegacyHost : IAsyncDisposable
    {
        private readonly IHost _host;

        private LegacyHost(IHost host)
        {
            _host = host;
            Client = host.GetTestClient();
        }

        public HttpClient Client { get; }

        public IServiceProvider Services => _host.Services;

        public static async Task<LegacyHost> StartAsync(bool flowScope = true)
        {
            var host = await new HostBuilder()
                .ConfigureAppConfiguration(c => c.AddInMemoryCollection(new Dictionary<string, string?> { ["Legacy:FlowScope"] = flowScope ? "true" : "false" }))
                .ConfigureLogging(l => l.ClearProviders())
                .ConfigureWebHost(web => web
                    .UseTestServer()
                    .ConfigureServices(services =>
                    {
                        services.AddSingleton<Privacy.MiddlewareRecorder>();
                        services.AddTransient<IStartupFilter>(sp => sp.GetRequiredService<Privacy.MiddlewareRecorder>());
                    })
                    .UseStartup<LegacyMvcStartup>())
                .StartAsync();
            return new LegacyHost(host);
        }

        public async Task<JsonElement> GetJsonAsync(string url)
        {
            using var response = await Client.GetAsync(url);
            Assert.True(response.IsSuccessStatusCode, $"GET {url} answered {(int)response.StatusCode}");
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }

        public async Task<JsonElement> WaitForAsync(string name)
        {
            JsonElement found = default;
            await Eventually.TrueAsync(
                async () =>
                {
                    var list = await GetJsonAsync("/_flowscope/api/traces?limit=1000");
                    var match = list.GetProperty("traces").EnumerateArray().Where(t => t.Str("name") == name).ToArray();
                    found = match.FirstOrDefault();
                    return match.Length > 0;
                },
                because: name);
            return found.Clone();
        }

        public async Task<JsonElement[]> SpansAsync(JsonElement summary)
        {
            var detail = await GetJsonAsync("/_flowscope/api/traces/" + summary.Str("traceId"));
            return [.. detail.GetProperty("spans").EnumerateArray().Select(s => s.Clone())];
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await _host.StopAsync();
            _host.Dispose();
        }
    }
}
