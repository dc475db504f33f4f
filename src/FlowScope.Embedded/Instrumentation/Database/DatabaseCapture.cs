using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Database;

/// <summary>Listens for database commands while the host runs (unless FlowScope or <see cref="FlowScopeOptions.CaptureDatabaseCommands"/> is off).</summary>
internal sealed class DatabaseCapture(IOptions<FlowScopeOptions> options) : IHostedService, IDisposable
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var value = options.Value;
        if (value.Enabled && value.CaptureDatabaseCommands)
        {
            _subscription ??= DatabaseDiagnostics.Acquire(value.CaptureDatabaseParameters);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _subscription, null)?.Dispose();
    }
}
