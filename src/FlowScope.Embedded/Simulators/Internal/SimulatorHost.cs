using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Simulators.Internal;

/// <summary>Holds the app's simulators and runs their loops from the moment the app has started until it stops.</summary>
internal sealed class SimulatorHost : IHostedService, IDisposable
{
    private readonly SimulatorRunner[] _runners;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly bool _enabled;
    private readonly CancellationTokenSource _stopping = new();
    private bool _disposed;
    private Task _loops = Task.CompletedTask;

    public SimulatorHost(
        IEnumerable<SimulatorRegistration> registrations,
        IOptionsMonitor<SimulatorOptions> options,
        IOptions<FlowScopeOptions> flowScope,
        IServiceScopeFactory scopes,
        TimeProvider time,
        ILoggerFactory loggerFactory,
        IHostApplicationLifetime? lifetime = null)
    {
        var logger = loggerFactory.CreateLogger("FlowScope.Embedded.Simulators");
        _runners = [.. registrations.Select(r => new SimulatorRunner(r, options.Get(r.Name), scopes, time, logger))];
        _lifetime = lifetime;
        _enabled = flowScope.Value.Enabled;
    }

    public IReadOnlyList<SimulatorRunner> Runners => _runners;

    public SimulatorRunner? Find(string name) =>
        Array.Find(_runners, r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_enabled && _runners.Length > 0)
        {
            _loops = Task.Run(RunAllAsync, CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    private async Task RunAllAsync()
    {
        var stopping = _stopping.Token;
        if (_lifetime is not null && !_lifetime.ApplicationStarted.IsCancellationRequested)
        {
            // Simulated load starts once the app serves requests, not while it is still starting.
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var registration = _lifetime.ApplicationStarted.Register(() => started.TrySetResult());
            try
            {
                await started.Task.WaitAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        var loops = _runners.Select(r => Task.Run(async () =>
        {
            try
            {
                await r.RunAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
            }
        }, CancellationToken.None));
        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // StopAsync can come after the services were disposed (seen with WebApplicationFactory on a minimal-hosting
        // app, whose Run() also stops the host): nothing is left to stop, and the app's shutdown must not fail.
        if (Volatile.Read(ref _disposed))
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loops.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // A run that ignores cancellation is left behind rather than holding up shutdown.
        }
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        _stopping.Dispose();
    }
}
