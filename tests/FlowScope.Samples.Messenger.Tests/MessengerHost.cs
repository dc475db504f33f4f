using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace FlowScope.Samples.Messenger.Tests;

/// <summary>The sample, as built by its own <c>MessengerApp.Create</c>, on Kestrel at a free loopback port.</summary>
internal sealed class MessengerHost : IAsyncDisposable
{
    private readonly WebApplication? _app;
    private readonly Process? _process;

    private MessengerHost(WebApplication? app, Process? process, Uri address)
    {
        _app = app;
        _process = process;
        Address = address;
        Dashboard = new HttpClient { BaseAddress = address };
        Capture = app is null ? null : TraceCapture.For(app.Services);
    }

    /// <summary>The in-process app (not available for a host started as a separate process).</summary>
    public WebApplication App => _app ?? throw new InvalidOperationException("This instance runs in a process of its own.");

    /// <summary>The traces of the requests made by this host's sessions (in-process hosts only).</summary>
    public TraceCapture? Capture { get; }

    public Uri Address { get; }

    public HttpClient Dashboard { get; }

    public static async Task<MessengerHost> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            // Fast, deterministic defaults for tests; each test overrides what it exercises.
            ["Messenger:Notifications:FailureRate"] = "0",
            ["Messenger:Notifications:MaxLatency"] = "00:00:00.001",
            ["Messenger:AuthRequestsPerMinute"] = "1000",
            ["FlowScope:Queues:notifications:BackoffBase"] = "00:00:00.010",
            ["FlowScope:Queues:notifications:BackoffMax"] = "00:00:00.050",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var app = MessengerApp.Create(
            ["--urls", "http://127.0.0.1:0", "--environment", "Testing"],
            builder =>
            {
                builder.Configuration.AddInMemoryCollection(values);
                builder.Logging.ClearProviders();
            },
            services => services.AddFlowScopeTesting());
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new MessengerHost(app, null, new Uri(address));
    }

    /// <summary>
    /// Starts the sample as a separate process (<c>dotnet FlowScope.Samples.Messenger.dll</c>), as a second machine
    /// would: its own FlowScope listener and store, nothing shared with the test process but the network.
    /// </summary>
    public static async Task<MessengerHost> StartProcessAsync(IDictionary<string, string?> settings)
    {
        var dll = typeof(MessengerApp).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in new[] { "--urls", "http://127.0.0.1:0", "--environment", "Testing", "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information" })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in settings)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("The sample did not start.");
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            output.Enqueue(e.Data);
            var at = e.Data.IndexOf("Now listening on: ", StringComparison.Ordinal);
            if (at >= 0)
            {
                listening.TrySetResult(new Uri(e.Data[(at + "Now listening on: ".Length)..].Trim()));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
            return new MessengerHost(null, process, address);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw new InvalidOperationException("The sample process did not start listening: " + string.Join(Environment.NewLine, output));
        }
    }

    public Uri SocketUri => new UriBuilder(Address) { Scheme = "ws", Path = "/ws" }.Uri;

    /// <summary>Registers a user (signed in by the returned session's cookie).</summary>
    public async Task<UserSession> RegisterAsync(string userName, string password = "correct horse")
    {
        var session = new UserSession(this, userName);
        var response = await session.Http.PostAsJsonAsync("/api/account/register", new { userName, password });
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"register {userName}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return session;
    }

    /// <summary>Every span of a trace, once the trace holds at least <paramref name="until"/>.</summary>
    public async Task<IReadOnlyList<Span>> TraceAsync(string traceId, Func<IReadOnlyList<Span>, bool> until, string because)
    {
        IReadOnlyList<Span> last = [];
        try
        {
            return await Eventually.ValueAsync(async () =>
            {
                var response = await Dashboard.GetAsync($"/_flowscope/api/traces/{traceId}");
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return null;
                }

                response.EnsureSuccessStatusCode();
                using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                last = [.. doc.RootElement.GetProperty("spans").EnumerateArray().Select(Span.From)];
                return until(last) ? last : null;
            }, because: because);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidOperationException($"{ex.Message} Spans seen: {string.Join(" | ", last.Select(s => s.ToString()))}", ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Dashboard.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }
    }
}

/// <summary>A span as the dashboard API returns it.</summary>
internal sealed record Span(string SpanId, string? ParentSpanId, string Name, string Kind, string Component, string Status, IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<string> Events, string Instance = "")
{
    public string? this[string attribute] => Attributes.TryGetValue(attribute, out var v) ? v : null;

    public static Span From(JsonElement e) => new(
        e.GetProperty("spanId").GetString()!,
        e.TryGetProperty("parentSpanId", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null,
        e.GetProperty("name").GetString()!,
        e.GetProperty("kind").GetString()!,
        e.GetProperty("component").GetString()!,
        e.GetProperty("status").GetString()!,
        e.GetProperty("attributes").EnumerateObject().ToDictionary(a => a.Name, a => a.Value.GetString() ?? ""),
        [.. e.TryGetProperty("events", out var ev) && ev.ValueKind == JsonValueKind.Array ? ev.EnumerateArray().Select(x => x.GetProperty("name").GetString()!) : []],
        e.TryGetProperty("instance", out var instance) ? instance.GetString() ?? "" : "");

    public override string ToString() => $"{Name} [{Component}/{Kind}/{Status}] {string.Join(",", Attributes.Where(a => a.Key.StartsWith("messenger.") || a.Key.StartsWith("flowscope.")).Select(a => a.Key + "=" + a.Value))}";
}
