using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Internal;

/// <summary>
/// Starts capture and the pump with the host (before the server accepts requests) and, on shutdown, stops
/// capturing and stores what is still buffered. Does nothing when FlowScope is disabled.
/// </summary>
internal sealed class FlowScopeRuntime : IHostedService, IDisposable
{
    private readonly FlowScopeOptions _options;
    private readonly ActivityCapture _capture;
    private readonly SpanBuffer _buffer;
    private readonly SpanPump _pump;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private bool _disposed;
    private Task? _pumpTask;
    private int _bufferFullLogged;

    public FlowScopeRuntime(IOptions<FlowScopeOptions> options, ActivityCapture capture, SpanBuffer buffer, SpanPump pump, ILogger<FlowScopeRuntime> logger, TimeProvider timeProvider, FlowScopeMetrics metrics)
    {
        _options = options.Value;
        _capture = capture;
        _buffer = buffer;
        _pump = pump;
        _logger = logger;
        StartedAt = timeProvider.GetUtcNow();
        _ = metrics; // created with the runtime so the FlowScope meter exists from the start
    }

    public DateTimeOffset StartedAt { get; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            Log.Disabled(_logger);
            return Task.CompletedTask;
        }

        _buffer.SpanDropped += OnSpanDropped;
        _pumpTask = _pump.RunAsync(_stopping.Token);
        _capture.Start();
        Log.Started(_logger, _options.DashboardPath);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // StopAsync can come after the services were disposed (seen with WebApplicationFactory on a minimal-hosting
        // app, whose Run() also stops the host): nothing is left to stop, and the app's shutdown must not fail.
        if (Volatile.Read(ref _disposed))
        {
            return;
        }

        _capture.Dispose();
        _buffer.Complete();
        if (_pumpTask is not null)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            await _pumpTask.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void OnSpanDropped()
    {
        // Logged once per process: the counter and the dashboard carry the rest.
        if (Interlocked.Exchange(ref _bufferFullLogged, 1) == 0)
        {
            Log.BufferFull(_logger, _buffer.Capacity);
        }
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        _capture.Dispose();
        _stopping.Dispose();
    }
}
