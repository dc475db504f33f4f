using System.Diagnostics;
using FlowScope.Embedded.Workers.Internal;

namespace FlowScope.Embedded.Database;

/// <summary>
/// Subscribes to the diagnostic listeners that report database commands (Entity Framework Core, SqlClient), once per
/// process however many hosts run FlowScope (one subscription records a command once; every host's capture sees the
/// span). The subscription lives while at least one host holds it.
/// </summary>
internal sealed class DatabaseDiagnostics : IObserver<DiagnosticListener>
{
    private static readonly Lock s_lock = new();
    private static int s_holders;
    private static DatabaseDiagnostics? s_instance;

    private readonly List<IDisposable> _subscriptions = [];
    private IDisposable? _allListeners;

    /// <summary>Starts listening (if no host does yet); dispose the result when the host stops.</summary>
    public static IDisposable Acquire(bool captureParameters)
    {
        lock (s_lock)
        {
            if (s_holders++ == 0)
            {
                s_instance = new DatabaseDiagnostics();
                s_instance._allListeners = DiagnosticListener.AllListeners.Subscribe(s_instance);
            }
        }

        if (captureParameters)
        {
            DatabaseCommands.AddParameterCapture(1);
        }

        return new Holder(captureParameters);
    }

    private static void Release(bool captureParameters)
    {
        if (captureParameters)
        {
            DatabaseCommands.AddParameterCapture(-1);
        }

        lock (s_lock)
        {
            if (--s_holders == 0 && s_instance is { } instance)
            {
                s_instance = null;
                instance.Dispose();
            }
        }
    }

    public void OnNext(DiagnosticListener value)
    {
        try
        {
            IDisposable? subscription = value.Name switch
            {
                EntityFrameworkObserver.ListenerName => value.Subscribe(new EntityFrameworkObserver(), static (name, _, _) => EntityFrameworkObserver.IsEnabled(name)),
                SqlClientObserver.ListenerName => value.Subscribe(new SqlClientObserver(), static (name, _, _) => SqlClientObserver.IsEnabled(name)),
                _ => null,
            };

            if (subscription is not null)
            {
                lock (_subscriptions)
                {
                    _subscriptions.Add(subscription);
                }
            }
        }
        catch (Exception ex)
        {
            InstrumentationFailures.Report("database", ex);
        }
    }

    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }

    private void Dispose()
    {
        _allListeners?.Dispose();
        lock (_subscriptions)
        {
            foreach (var subscription in _subscriptions)
            {
                subscription.Dispose();
            }

            _subscriptions.Clear();
        }
    }

    private sealed class Holder(bool captureParameters) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Release(captureParameters);
            }
        }
    }
}
