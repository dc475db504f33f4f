using System.Net;
using System.Text.Json;
using FlowScope.Embedded.Simulators.Internal;
using FlowScope.Embedded.IntegrationTests.Security;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.IntegrationTests.Controls;

public sealed class SimulatorTests
{
    [Fact]
    public async Task A_simulator_started_from_the_API_produces_traffic_in_traces_of_its_own_and_stops_when_told()
    {
        var runs = 0;
        await using var app = await TestApp.StartAsync(configureBuilder: b => b.Services.AddFlowScope().AddSimulator(
            "ticker",
            (services, cancellationToken) =>
            {
                Assert.NotNull(services.GetService<TimeProvider>()); // a scope of the app's services
                using var step = TestApp.Source.StartActivity("tick");
                Interlocked.Increment(ref runs);
                return Task.CompletedTask;
            },
            o =>
            {
                o.Description = "Ticks.";
                o.RatePerSecond = 20;
            }));
        var op = new OperatorClient(app.Client);
        await op.OpenAsync();

        var listed = Assert.Single((await op.GetJsonAsync("api/simulators")).GetProperty("simulators").EnumerateArray());
        Assert.Equal("ticker", listed.GetProperty("name").GetString());
        Assert.Equal("Ticks.", listed.GetProperty("description").GetString());
        Assert.False(listed.GetProperty("running").GetBoolean());
        Assert.Equal(20, listed.GetProperty("ratePerSecond").GetDouble());
        Assert.Equal(0, listed.GetProperty("runs").GetInt64());
        Assert.Equal(0, Volatile.Read(ref runs)); // nothing runs until an operator starts it

        using (var start = await op.PostAsync("api/simulators", new { name = "ticker", running = true, ratePerSecond = 50 }))
        {
            var started = JsonDocument.Parse(await start.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(HttpStatusCode.OK, start.StatusCode);
            Assert.True(started.GetProperty("running").GetBoolean());
            Assert.Equal(50, started.GetProperty("ratePerSecond").GetDouble());
        }

        await Eventually.TrueAsync(async () => (await op.GetJsonAsync("api/simulators")).GetProperty("simulators")[0].GetProperty("runs").GetInt64() >= 5);
        var trace = await app.WaitForTraceAsync(t => t.Name == "simulate ticker" && t.SpanCount == 2);
        var spans = (await app.Store.GetTraceAsync(trace.TraceId))!.Spans;
        var root = Assert.Single(spans, s => s.ParentSpanId is null);
        Assert.Equal(SpanComponents.Simulator, root.Component);
        Assert.Equal("ticker", root.GetAttribute("flowscope.simulator.name"));
        Assert.Equal(root.SpanId, Assert.Single(spans, s => s.Name == "tick").ParentSpanId);

        using (var stop = await op.PostAsync("api/simulators", new { name = "ticker", running = false }))
        {
            Assert.False(JsonDocument.Parse(await stop.Content.ReadAsStringAsync()).RootElement.GetProperty("running").GetBoolean());
        }

        var runner = app.App.Services.GetRequiredService<SimulatorHost>().Find("ticker")!;
        await Eventually.TrueAsync(() => Task.FromResult(runner.IsParked), because: "the loop waits to be started again");
        var counted = runner.Snapshot().Runs;
        Assert.Equal(counted, Volatile.Read(ref runs));
        Assert.True(runner.IsParked);
    }

    [Fact]
    public async Task Bad_simulator_requests_get_problems_naming_the_field()
    {
        await using var app = await TestApp.StartAsync(configureBuilder: b => b.Services.AddFlowScope()
            .AddSimulator("ticker", (_, _) => Task.CompletedTask, o => o.MaxRatePerSecond = 10));
        var op = new OperatorClient(app.Client);
        await op.OpenAsync();

        async Task Expect(object body, int status, string parameter)
        {
            using var response = await op.PostAsync("api/simulators", body);
            var problem = await OperatorClient.ProblemAsync(response, status);
            Assert.Equal(parameter, problem.GetProperty("parameter").GetString());
        }

        await Expect(new { name = "nope", running = true }, 404, "name");
        await Expect(new { running = true }, 400, "name");
        await Expect(new { name = "ticker" }, 400, "running");
        await Expect(new { name = "ticker", ratePerSecond = 0 }, 400, "ratePerSecond");
        await Expect(new { name = "ticker", ratePerSecond = 11 }, 400, "ratePerSecond");
        await Expect(new { name = "ticker", running = "yes" }, 400, "running");
        Assert.False(app.App.Services.GetRequiredService<SimulatorHost>().Find("ticker")!.Snapshot().Running);
    }

    [Fact]
    public async Task A_failing_run_is_counted_and_shown_logged_once_and_the_simulator_keeps_going()
    {
        var logs = new ListLoggerProvider();
        var runs = 0;
        await using var app = await TestApp.StartAsync(
            new() { ["FlowScope:Simulators:flaky:StartOnStartup"] = "true", ["FlowScope:Simulators:flaky:RatePerSecond"] = "100" },
            configureBuilder: b =>
            {
                b.Logging.AddProvider(logs);
                b.Services.AddFlowScope().AddSimulator("flaky", (_, _) =>
                {
                    var run = Interlocked.Increment(ref runs);
                    return run % 2 == 0 ? Task.CompletedTask : Task.FromException(new TimeoutException($"Run {run} timed out."));
                });
            });
        var runner = app.App.Services.GetRequiredService<SimulatorHost>().Find("flaky")!;
        await Eventually.TrueAsync(() => Task.FromResult(runner.Snapshot().Failures >= 3), because: "configuration started it at 100 runs/s");

        var snapshot = runner.Snapshot();
        Assert.True(snapshot.Running);
        Assert.Equal(100, snapshot.RatePerSecond);
        Assert.StartsWith("System.TimeoutException: Run ", snapshot.LastError, StringComparison.Ordinal);
        Assert.True(snapshot.Runs >= snapshot.Failures + 2);
        Assert.Single(logs.Messages, m => m.Contains("simulator 'flaky' failed", StringComparison.Ordinal));
        var failed = await app.WaitForTraceAsync(t => t.Name == "simulate flaky" && t.IsError);
        var root = Assert.Single((await app.Store.GetTraceAsync(failed.TraceId))!.Spans);
        Assert.Contains("timed out", root.StatusMessage, StringComparison.Ordinal);
        Assert.Contains(root.Events, e => e.Name == "exception");
    }

    [Fact]
    public async Task Simulator_names_and_options_are_checked_when_registered_and_at_start()
    {
        var services = new ServiceCollection();
        var builder = services.AddFlowScope();
        builder.AddSimulator("ok-name_1.2", (_, _) => Task.CompletedTask);
        Assert.Throws<ArgumentException>(() => builder.AddSimulator("OK-NAME_1.2", (_, _) => Task.CompletedTask));
        Assert.Throws<ArgumentException>(() => builder.AddSimulator("has space", (_, _) => Task.CompletedTask));
        Assert.Throws<ArgumentException>(() => builder.AddSimulator(new string('a', 65), (_, _) => Task.CompletedTask));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.StartAsync(
            new() { ["FlowScope:Simulators:ticker:RatePerSecond"] = "500" },
            configureBuilder: b => b.Services.AddFlowScope().AddSimulator("ticker", (_, _) => Task.CompletedTask)));
        Assert.Contains("FlowScope:Simulators:ticker:RatePerSecond", error.Message, StringComparison.Ordinal);
    }
}
