using System.Diagnostics;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.IntegrationTests.Pipeline;

public sealed class MvcTests
{
    private static async Task<(WebApplication App, HttpClient Client)> StartAsync(Action<FlowScopeOptions>? configure = null, Dictionary<string, string?>? configuration = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }

        builder.Services.AddFlowScope(configure);
        builder.Services.AddControllers().AddApplicationPart(typeof(OrdersController).Assembly);
        var app = builder.Build();
        app.UseFlowScope();
        app.MapControllers();
        app.MapGet("/minimal/{n:int}", (int n, ILogger<MvcTests> logger) =>
        {
            logger.LogInformation("Computing square of {Number}", n);
            logger.LogDebug("debug detail {Number}", n);
            return n * n;
        });
        await app.StartAsync();
        return (app, app.GetTestClient());
    }

    private static async Task<IReadOnlyList<SpanRecord>> TraceOfAsync(WebApplication app, string name)
    {
        var store = app.Services.GetRequiredService<ITraceStore>();
        TraceSummary? summary = null;
        await Eventually.TrueAsync(async () => (summary = (await store.QueryAsync(new TraceQuery { Name = name })).Traces.FirstOrDefault()) is not null, because: name);
        return (await store.GetTraceAsync(summary!.TraceId))!.Spans;
    }

    [Fact]
    public async Task An_MVC_action_shows_controller_action_route_binding_and_result()
    {
        var (app, client) = await StartAsync();
        await using var _ = app;

        Assert.Contains("\"id\":42", await client.GetStringAsync("/api/orders/42"), StringComparison.Ordinal);

        var spans = await TraceOfAsync(app, "api/orders/{id:int}");
        var root = spans.Single(s => s.ParentSpanId is null);
        Assert.Equal("GET api/orders/{id:int}", root.Name);
        var endpoint = spans.Single(s => s.Component == "endpoint");
        var controller = spans.Single(s => s.Name == "OrdersController.Get");

        Assert.Equal("controller", controller.Component);
        Assert.Equal(endpoint.SpanId, controller.ParentSpanId);

        // The endpoint's stage holds exactly the controller stage: they begin and end at the same readings.
        Assert.Equal(endpoint.StartTime, controller.StartTime);
        Assert.Equal(endpoint.EndTime, controller.EndTime);
        Assert.Equal("Orders", controller.GetAttribute("mvc.controller"));
        Assert.Equal("Get", controller.GetAttribute("mvc.action"));
        Assert.Equal("api/orders/{id:int}", controller.GetAttribute("http.route"));
        Assert.Contains("AuditFilter", controller.GetAttribute("mvc.filters"), StringComparison.Ordinal);

        var steps = spans.Where(s => s.ParentSpanId == controller.SpanId).OrderBy(s => s.StartTime).Select(s => s.Name).ToArray();
        Assert.Equal(["model binding", "Get()", "result OkObjectResult"], steps);

        // Binding starts with the controller stage and hands over to the action method without a gap.
        var binding = spans.Single(s => s.Name == "model binding");
        var method = spans.Single(s => s.Name == "Get()");
        Assert.Equal(controller.StartTime, binding.StartTime);
        Assert.Equal(binding.StartTime + binding.Duration, method.StartTime);

        // The action's log entry is an event of the action method's span.
        var action = spans.Single(s => s.Name == "Get()");
        var log = Assert.Single(action.Events);
        Assert.Equal("Loading order 42", log.Name);
        Assert.Contains(log.Attributes, a => a.Key == "OrderId" && a.Value == "42");
        Assert.Contains(log.Attributes, a => a.Key == "log.level" && a.Value == "Information");
    }

    [Fact]
    public async Task An_injected_delay_at_an_action_shows_in_its_endpoint_stage_and_the_controller_stage_follows_it()
    {
        var (app, client) = await StartAsync(configuration: new() { ["FlowScope:EnableFaultInjection"] = "true" });
        await using var _ = app;
        var faults = app.Services.GetRequiredService<FlowScope.Embedded.Faults.FaultInjector>();
        Assert.True(faults.TryAdd(new FlowScope.Embedded.Faults.FaultRequest(FlowScope.Embedded.Faults.FaultKind.Endpoint, "OrdersController.Get", 120, null, 0, null, 1), out var fault));
        Assert.NotNull(fault);

        Assert.Contains("\"id\":7", await client.GetStringAsync("/api/orders/7"), StringComparison.Ordinal);

        var spans = await TraceOfAsync(app, "api/orders/{id:int}");
        var endpoint = spans.Single(s => s.Component == "endpoint");
        var controller = spans.Single(s => s.Name == "OrdersController.Get");
        Assert.NotNull(endpoint.GetAttribute(FlowScope.Embedded.Faults.FaultInjector.IdAttribute));
        Assert.True(endpoint.Duration >= TimeSpan.FromMilliseconds(120), $"the endpoint stage took {endpoint.Duration.TotalMilliseconds} ms");

        // The controller stage (and the action's steps in it) begin after the delay, inside the endpoint's stage.
        Assert.Equal(endpoint.SpanId, controller.ParentSpanId);
        Assert.True(controller.StartTime >= endpoint.StartTime + TimeSpan.FromMilliseconds(120), $"the controller stage began {(controller.StartTime - endpoint.StartTime).TotalMilliseconds} ms into the endpoint's");
        Assert.True(controller.EndTime <= endpoint.EndTime);
        Assert.Null(controller.GetAttribute(FlowScope.Embedded.Faults.FaultInjector.IdAttribute));
        var steps = spans.Where(s => s.ParentSpanId == controller.SpanId).OrderBy(s => s.StartTime).Select(s => s.Name).ToArray();
        Assert.Equal(["model binding", "Get()", "result OkObjectResult"], steps);
        Assert.Equal(controller.StartTime, spans.Single(s => s.Name == "model binding").StartTime);
    }

    [Fact]
    public async Task A_failing_action_marks_action_and_controller_failed_with_the_exception_once()
    {
        var (app, client) = await StartAsync();
        await using var _ = app;

        await Assert.ThrowsAnyAsync<Exception>(() => client.GetAsync("/api/orders/fail"));

        var spans = await TraceOfAsync(app, "api/orders/fail");
        var action = spans.Single(s => s.Name == "Fail()");
        Assert.Equal(ActivityStatusCode.Error, action.Status);
        Assert.Equal(ActivityStatusCode.Error, spans.Single(s => s.Name == "OrdersController.Fail").Status);
        Assert.Equal(ActivityStatusCode.Error, spans.Single(s => s.ParentSpanId is null).Status);
        var exception = Assert.Single(spans.SelectMany(s => s.Events), e => e.Name == "exception");
        Assert.Contains(exception.Attributes, a => a.Key == "exception.message" && a.Value == "Payment service unavailable");
        Assert.Contains(action.Events, e => e.Name == "exception");
    }

    [Fact]
    public async Task A_minimal_endpoint_shows_its_route_and_logs_at_or_above_the_minimum_level()
    {
        var (app, client) = await StartAsync();
        await using var _ = app;

        Assert.Equal("49", await client.GetStringAsync("/minimal/7"));

        var spans = await TraceOfAsync(app, "/minimal/");
        var endpoint = spans.Single(s => s.Component == "endpoint");
        Assert.Equal("GET /minimal/{n:int}", endpoint.Name);
        Assert.Equal("/minimal/{n:int}", endpoint.GetAttribute("http.route"));
        var log = Assert.Single(endpoint.Events, e => e.Attributes.Any(a => a.Key == "log.category" && a.Value == typeof(MvcTests).FullName));
        Assert.Equal("Computing square of 7", log.Name);
        Assert.DoesNotContain(endpoint.Events, e => e.Name.StartsWith("Executing endpoint", StringComparison.Ordinal)); // framework Information entries: not by default
        Assert.Contains(log.Attributes, a => a.Key == "log.category" && a.Value == typeof(MvcTests).FullName);
    }

    [Fact]
    public async Task Framework_information_entries_are_recorded_when_FlowScope_s_provider_is_configured_for_them()
    {
        var (app, client) = await StartAsync(configuration: new() { ["Logging:FlowScope:LogLevel:Microsoft.AspNetCore"] = "Information" });
        await using var _ = app;

        await client.GetStringAsync("/minimal/6");

        var spans = await TraceOfAsync(app, "/minimal/");
        var endpoint = spans.Single(s => s.Component == "endpoint");
        Assert.Contains(endpoint.Events, e => e.Name.StartsWith("Executing endpoint", StringComparison.Ordinal));
        Assert.Contains(endpoint.Events, e => e.Name == "Computing square of 6");
    }

    [Fact]
    public async Task The_app_s_log_filters_keep_framework_entries_out_of_the_spans()
    {
        var (app, client) = await StartAsync(configuration: new() { ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning" });
        await using var _ = app;

        await client.GetStringAsync("/minimal/5");

        var spans = await TraceOfAsync(app, "/minimal/");
        var endpoint = spans.Single(s => s.Component == "endpoint");
        Assert.Equal(["Computing square of 5"], endpoint.Events.Select(e => e.Name));
    }

    [Fact]
    public async Task The_minimum_log_level_is_configurable()
    {
        var (app, client) = await StartAsync(o => o.MinimumLogLevel = LogLevel.Debug);
        await using var _ = app;

        await client.GetStringAsync("/minimal/3");

        var spans = await TraceOfAsync(app, "/minimal/");
        var endpoint = spans.Single(s => s.Component == "endpoint");
        var mine = endpoint.Events.Where(e => e.Attributes.Any(a => a.Key == "log.category" && a.Value == typeof(MvcTests).FullName));
        Assert.Equal(["Computing square of 3", "debug detail 3"], mine.Select(e => e.Name));
    }
}

[ApiController]
[Route("api/orders")]
[AuditFilter]
public sealed class OrdersController(ILogger<OrdersController> logger) : ControllerBase
{
    [HttpGet("{id:int}")]
    public IActionResult Get(int id)
    {
        logger.LogInformation("Loading order {OrderId}", id);
        return Ok(new { id, status = "shipped" });
    }

    [HttpGet("fail")]
    public IActionResult Fail() => throw new InvalidOperationException("Payment service unavailable");
}

public sealed class AuditFilterAttribute : ActionFilterAttribute
{
    public override void OnActionExecuting(ActionExecutingContext context) => context.HttpContext.Response.Headers["X-Audit"] = "1";
}
