using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Workers.Internal;

/// <summary>
/// Where FlowScope's queue, worker and step instrumentation reports its own failures. The instrumentation never lets
/// such an exception reach the app: it counts it and logs it once per area, through the logger attached when the
/// host starts (static APIs such as <c>FlowScopeSteps</c> have no container of their own).
/// </summary>
internal static class InstrumentationFailures
{
    private static readonly ConcurrentDictionary<string, byte> s_logged = new(StringComparer.Ordinal);
    private static ILogger? s_logger;
    private static long s_count;

    /// <summary>Gets how many failures the instrumentation has contained since the process started.</summary>
    public static long Count => Interlocked.Read(ref s_count);

    public static void Attach(ILogger logger) => Volatile.Write(ref s_logger, logger);

    public static void Report(string area, Exception exception)
    {
        try
        {
            Interlocked.Increment(ref s_count);
            var logger = Volatile.Read(ref s_logger);
            if (logger is not null && s_logged.TryAdd(area, 0))
            {
                AsyncInstrumentationLog.InstrumentationFailed(logger, exception, area);
            }
        }
        catch (Exception)
        {
            // Reporting a failure must never become one.
        }
    }

    /// <summary>
    /// Records that the work of <paramref name="activity"/> failed — error status with the message, the
    /// <c>error.type</c> attribute and an <c>exception</c> event — as every FlowScope span (step, unit of work, queue
    /// attempt, simulator run) records it. Never throws: a failure here is reported under <paramref name="area"/>.
    /// </summary>
    public static void MarkFailed(Activity? activity, Exception exception, string area)
    {
        if (activity is null)
        {
            return;
        }

        try
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            if (activity.IsAllDataRequested)
            {
                activity.SetTag("error.type", exception.GetType().FullName ?? exception.GetType().Name);
                activity.AddException(exception);
            }
        }
        catch (Exception ex)
        {
            Report(area, ex);
        }
    }

    /// <summary>
    /// After a failure inside <c>StartActivity</c> (a listener that throws), an activity may have been made current
    /// and never stopped; the caller's flow must not inherit it.
    /// </summary>
    public static void RestoreCurrent(Activity? previous)
    {
        try
        {
            if (Activity.Current != previous)
            {
                Activity.Current = previous;
            }
        }
        catch (Exception ex)
        {
            Report("activity", ex);
        }
    }
}
