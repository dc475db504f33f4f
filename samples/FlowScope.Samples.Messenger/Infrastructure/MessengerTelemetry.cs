using System.Diagnostics;

namespace FlowScope.Samples.Messenger.Infrastructure;

/// <summary>The messenger's own spans: one <c>receive message</c> root per chat message, storage and socket deliveries.</summary>
internal static class MessengerTelemetry
{
    public const string SourceName = "Messenger";

    public static readonly ActivitySource Source = new(SourceName);

    // FlowScope's component attribute: lets the dashboard's map put storage under "database".
    public const string ComponentAttribute = "flowscope.component";

    /// <summary>
    /// Starts the root span of one received message. A WebSocket's HTTP request span lasts as long as the
    /// connection, so each message gets a trace of its own, linked to the connection's span.
    /// </summary>
    public static Activity? StartReceive(string name, ActivityContext connection)
    {
        var previous = Activity.Current;
        Activity.Current = null;
        var links = connection == default ? null : new[] { new ActivityLink(connection) };
        var activity = Source.StartActivity(ActivityKind.Server, default, tags: null, links: links, name: name);
        if (activity is null)
        {
            Activity.Current = previous;
        }

        return activity;
    }

    /// <summary>
    /// Starts the root span of work of its own (start-up, set-up), outside whatever trace is current. The previous
    /// current activity comes back when the returned scope is disposed.
    /// </summary>
    public static IDisposable StartRoot(string name)
    {
        var previous = Activity.Current;
        Activity.Current = null;
        var activity = Source.StartActivity(name, ActivityKind.Internal);
        return new RootScope(activity, previous);
    }

    private sealed class RootScope(Activity? activity, Activity? previous) : IDisposable
    {
        public void Dispose()
        {
            activity?.Dispose();
            Activity.Current = previous;
        }
    }

    /// <summary>
    /// Starts a storage span. For a store whose commands FlowScope records itself (<paramref name="system"/>
    /// <see langword="null"/>: EF Core on SQLite) it is a plain step, the commands below it being the database spans;
    /// for Redis it is the database call itself (kind client, <c>db.system</c> set).
    /// </summary>
    public static Activity? StartStore(string operation, string? system, string? room)
    {
        if (system is null)
        {
            var step = Source.StartActivity(operation);
            if (room is not null)
            {
                step?.SetTag("messenger.room", room);
            }

            return step;
        }

        var activity = Source.StartActivity(operation, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("db.system", system);
            activity.SetTag("db.operation.name", operation);
            activity.SetTag(ComponentAttribute, "database");
            if (room is not null)
            {
                activity.SetTag("messenger.room", room);
            }
        }

        return activity;
    }

    public static void Fail(this Activity? activity, string code, string message)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, message);
        activity.SetTag("messenger.error", code);
    }
}
