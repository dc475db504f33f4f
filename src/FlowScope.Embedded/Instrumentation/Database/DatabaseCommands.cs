using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using FlowScope.Embedded.Workers.Internal;

namespace FlowScope.Embedded.Database;

/// <summary>
/// Records database commands as client spans on the <c>FlowScope.Database</c> source, for every way FlowScope sees a
/// command (Entity Framework Core's and SqlClient's diagnostic listeners, <see cref="FlowScopeDbConnection"/>).
/// The span is never made <see cref="Activity.Current"/>: instrumentations that track their own spans through it
/// (OpenTelemetry's) keep working, and a command is recorded once however many of these paths see it — the first to
/// see a <see cref="DbCommand"/> owns it until it ends. All the request thread does is this; the statement is parsed
/// and normalised later, on the pump.
/// </summary>
internal static class DatabaseCommands
{
    /// <summary>The name of the activity source database commands are recorded on.</summary>
    public const string ActivitySourceName = "FlowScope.Database";

    /// <summary>The custom property that carries a hash of a command's parameter values (for exact duplicates; never stored).</summary>
    internal const string ParametersHashProperty = "FlowScope.Db.ParametersHash";

    /// <summary>Parameter values, when captured (opt-in), are tags with this prefix and the parameter's name.</summary>
    internal const string ParameterTagPrefix = "db.query.parameter.";

    /// <summary>Commands in flight beyond this many (ends never reported) are not recorded.</summary>
    private const int MaxInFlight = 10_000;

    internal static readonly ActivitySource Source = new(ActivitySourceName);

    private static readonly ConcurrentDictionary<DbCommand, InFlight> s_inFlight = new(ReferenceEqualityComparer.Instance);
    private static readonly ConditionalWeakTable<DbConnection, ConnectionFacts> s_connections = new();
    private static readonly ConcurrentDictionary<ActivityTraceId, int> s_tracesInFlight = new();
    private static int s_inFlightCount;
    private static volatile bool s_trackTraces;
    private static int s_captureParameters;

    /// <summary>Who started recording a command; only its owner ends it.</summary>
    internal enum Owner : byte
    {
        EntityFramework,
        SqlClient,
        Wrapper,
    }

    /// <summary>Gets whether any host asked for parameter values (its converter keeps them; the others drop them).</summary>
    internal static bool CaptureParameters => Volatile.Read(ref s_captureParameters) > 0;

    internal static void AddParameterCapture(int delta) => Interlocked.Add(ref s_captureParameters, delta);

    /// <summary>
    /// From now on, note which traces have a command being recorded: a database client with an activity source of
    /// its own is present (Npgsql under EF Core reports the command EF Core reports).
    /// </summary>
    internal static void TrackTraces() => s_trackTraces = true;

    /// <summary>
    /// Whether FlowScope is recording a command in <paramref name="traceId"/> right now: a client's own command span
    /// that ends meanwhile (Npgsql's, inside EF Core's command) is the same command.
    /// </summary>
    internal static bool IsCommandInFlight(ActivityTraceId traceId) =>
        s_trackTraces && s_tracesInFlight.TryGetValue(traceId, out var count) && count > 0;

    /// <summary>Gets whether a command is being recorded (by any path).</summary>
    internal static bool IsInFlight(DbCommand command) => s_inFlight.ContainsKey(command);

    /// <summary>
    /// Starts recording <paramref name="command"/> for <paramref name="owner"/>; returns <see langword="false"/> when
    /// nobody listens, FlowScope's own work is running, or another path already records this command.
    /// </summary>
    public static bool Start(DbCommand command, Owner owner)
    {
        if (!Source.HasListeners() || s_inFlight.ContainsKey(command))
        {
            return false;
        }

        var previous = Activity.Current;
        try
        {
            if (Interlocked.Increment(ref s_inFlightCount) > MaxInFlight)
            {
                Interlocked.Decrement(ref s_inFlightCount);
                return false;
            }

            var activity = StartActivity(command, previous);
            var tracked = s_trackTraces;
            if (activity is null || !s_inFlight.TryAdd(command, new InFlight(activity, owner, tracked)))
            {
                Interlocked.Decrement(ref s_inFlightCount);
                activity?.Stop();
                InstrumentationFailures.RestoreCurrent(previous);
                return false;
            }

            if (tracked)
            {
                s_tracesInFlight.AddOrUpdate(activity.TraceId, 1, static (_, count) => count + 1);
            }

            return true;
        }
        catch (Exception ex)
        {
            InstrumentationFailures.RestoreCurrent(previous);
            InstrumentationFailures.Report("database", ex);
            return false;
        }
    }

    /// <summary>Ends the recording of <paramref name="command"/> if <paramref name="owner"/> started it.</summary>
    public static void Stop(DbCommand command, Owner owner, int rows = -1, Exception? error = null)
    {
        if (!s_inFlight.TryGetValue(command, out var entry) || entry.Owner != owner || !s_inFlight.TryRemove(command, out entry))
        {
            return;
        }

        Interlocked.Decrement(ref s_inFlightCount);
        var current = Activity.Current;
        try
        {
            var activity = entry.Activity;
            if (entry.Tracked)
            {
                Untrack(activity.TraceId);
            }

            if (rows >= 0)
            {
                activity.SetTag("db.response.returned_rows", rows);
            }

            if (error is not null)
            {
                activity.SetStatus(ActivityStatusCode.Error, error.Message);
                activity.SetTag("error.type", error.GetType().FullName ?? error.GetType().Name);
                activity.AddException(error);
            }

            activity.Stop();
        }
        catch (Exception ex)
        {
            InstrumentationFailures.Report("database", ex);
        }
        finally
        {
            // Stopping makes the span's parent current; the caller's flow keeps what it had.
            if (Activity.Current != current)
            {
                InstrumentationFailures.RestoreCurrent(current);
            }
        }
    }

    private static void Untrack(ActivityTraceId traceId)
    {
        while (s_tracesInFlight.TryGetValue(traceId, out var count))
        {
            if (count <= 1 ? s_tracesInFlight.TryRemove(new KeyValuePair<ActivityTraceId, int>(traceId, count)) : s_tracesInFlight.TryUpdate(traceId, count - 1, count))
            {
                return;
            }
        }
    }

    private static Activity? StartActivity(DbCommand command, Activity? previous)
    {
        // Under OpenTelemetry's own command span (its EF Core or SqlClient instrumentation), start beside it, under
        // its parent: FlowScope does not record that span, so it must not be this one's parent.
        var parent = previous;
        while (parent is not null && parent.Kind == ActivityKind.Client && IsOpenTelemetryCommandSource(parent.Source.Name))
        {
            parent = parent.Parent;
        }

        if (!ReferenceEquals(parent, previous))
        {
            Activity.Current = parent;
        }

        var facts = FactsOf(command);
        var activity = Source.StartActivity(facts.System, ActivityKind.Client);
        if (activity is null)
        {
            if (!ReferenceEquals(parent, previous))
            {
                Activity.Current = previous;
            }

            return null;
        }

        Activity.Current = previous;
        activity.SetTag("db.system.name", facts.System);
        if (facts.Namespace is { Length: > 0 } ns)
        {
            activity.SetTag("db.namespace", ns);
        }

        activity.SetTag("db.query.text", command.CommandText);
        NoteParameters(activity, command);
        return activity;
    }

    /// <summary>OpenTelemetry's command spans for what FlowScope records from the diagnostic listeners itself.</summary>
    internal static bool IsOpenTelemetryCommandSource(string name) =>
        name.StartsWith("OpenTelemetry.Instrumentation.", StringComparison.Ordinal)
        && (name.EndsWith(".EntityFrameworkCore", StringComparison.Ordinal) || name.EndsWith(".SqlClient", StringComparison.Ordinal));

    private static void NoteParameters(Activity activity, DbCommand command)
    {
        var parameters = command.Parameters;
        var count = parameters.Count;
        if (count == 0)
        {
            return;
        }

        var capture = CaptureParameters;
        var hash = new HashCode();
        for (var i = 0; i < count; i++)
        {
            var parameter = parameters[i];
            var value = parameter.Value;
            hash.Add(value);
            if (capture)
            {
                activity.SetTag(ParameterTagPrefix + parameter.ParameterName.TrimStart('@', ':', '$', '?'), value is null or DBNull ? "null" : value);
            }
        }

        activity.SetCustomProperty(ParametersHashProperty, hash.ToHashCode());
    }

    private static ConnectionFacts FactsOf(DbCommand command)
    {
        if (command is FlowScopeDbCommand wrapper)
        {
            command = wrapper.Inner;
        }

        var connection = command.Connection;
        if (connection is null)
        {
            return new ConnectionFacts(DbSystemNames.Of(command.GetType()), null);
        }

        if (!s_connections.TryGetValue(connection, out var facts))
        {
            facts = new ConnectionFacts(DbSystemNames.Of(command.GetType()), NamespaceOf(connection));
            s_connections.AddOrUpdate(connection, facts);
        }

        return facts;
    }

    /// <summary>The database name; for a file database (SQLite) the file's name says more than "main".</summary>
    private static string? NamespaceOf(DbConnection connection)
    {
        var database = connection.Database;
        if (string.Equals(database, "main", StringComparison.Ordinal))
        {
            var file = Path.GetFileName(connection.DataSource);
            return string.IsNullOrEmpty(file) ? database : file;
        }

        return database;
    }

    private readonly record struct InFlight(Activity Activity, Owner Owner, bool Tracked);

    private sealed record ConnectionFacts(string System, string? Namespace);
}
