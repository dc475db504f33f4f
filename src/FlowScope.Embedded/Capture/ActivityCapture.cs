using System.Diagnostics;
using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Database;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// FlowScope's <see cref="ActivityListener"/>. It asks for <see cref="ActivitySamplingResult.AllData"/> — never
/// <c>AllDataAndRecorded</c> — so the app's own sampling decision and everything it exports stay unchanged. On stop
/// it hands the activity to the buffer; that is all the work done on the request path.
/// </summary>
internal sealed class ActivityCapture : IDisposable
{
    private readonly SpanBuffer _buffer;
    private readonly ActivitySourceFilter _filter;
    private ActivityListener? _listener;

    public ActivityCapture(SpanBuffer buffer, ActivitySourceFilter filter)
    {
        _buffer = buffer;
        _filter = filter;
    }

    public void Start()
    {
        if (_listener is not null)
        {
            return;
        }

        _listener = new ActivityListener
        {
            ShouldListenTo = source => _filter.Matches(source.Name),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) =>
                CaptureSuppression.IsSuppressed ? ActivitySamplingResult.None : ActivitySamplingResult.AllData,
            SampleUsingParentId = static (ref ActivityCreationOptions<string> _) =>
                CaptureSuppression.IsSuppressed ? ActivitySamplingResult.None : ActivitySamplingResult.AllData,
            ActivityStarted = OnStarted,
            ActivityStopped = OnStopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>
    /// A span started inside a recorded request is shown under the pipeline stage running then: note that stage as a
    /// parent now, while the request runs (the component map remembers only such stages' ids).
    /// </summary>
    internal static void OnStarted(Activity activity)
    {
        if (activity.Parent is { } parent && parent.IsAllDataRequested && HttpRequestInfo.Get(parent) is HttpRequestInfo http && http.StageCount > 0)
        {
            http.NoteChildStartedAt(http.ToTimestamp(activity.StartTimeUtc));
        }
    }

    internal void OnStopped(Activity activity)
    {
        if (!activity.IsAllDataRequested)
        {
            return;
        }

        // A default database source's other spans (connection open, pool events) are not commands.
        if (activity.Kind != ActivityKind.Server && _filter.IsDatabaseOnly(activity.Source.Name) && SpanConverter.DatabaseSystemOf(activity) is null)
        {
            return;
        }

        // A client's own span for a command FlowScope records already (Npgsql's inside EF Core's command): one is enough.
        if (activity.Kind == ActivityKind.Client && DatabaseCommands.IsCommandInFlight(activity.TraceId)
            && !ReferenceEquals(activity.Source, DatabaseCommands.Source) && SpanConverter.DatabaseSystemOf(activity) is not null)
        {
            return;
        }

        var info = HttpRequestInfo.Get(activity);
        if (info is not null)
        {
            if (ReferenceEquals(info, HttpRequestInfo.Ignored))
            {
                return;
            }

            ((HttpRequestInfo)info).Complete();
        }

        _buffer.TryWrite(activity);
    }

    public void Dispose()
    {
        _listener?.Dispose();
        _listener = null;
    }
}
