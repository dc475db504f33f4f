using System.Globalization;
using System.Text;
using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Diagnostics;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// <c>GET api/stream</c>: Server-Sent Events. A new connection first gets the most recent traces
/// (<c>event: hydrate</c>), then every created or updated trace (<c>event: traces</c>) in batches gathered over
/// <see cref="FlowScopeOptions.LiveUpdateInterval"/>, with heartbeats while idle. Each batch's id is the store
/// version it reaches, so a reconnecting client that sends <c>Last-Event-ID</c> resumes exactly where it stopped
/// for as long as the store still holds those traces. Traces the store evicted meanwhile are named just before
/// (<c>event: evicted</c>), so a list can mark or drop the rows that point at them. Each connection reads the store at its own pace: a slow
/// client gets bigger batches, never an unbounded queue.
/// </summary>
internal static class LiveStream
{
    internal const int MaxTracesPerEvent = 500;

    public static async Task RunAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var subscriptions = services.GetRequiredService<LiveSubscriptions>();
        var client = context.Connection.RemoteIpAddress?.ToString() ?? "local";
        if (!subscriptions.TryEnter(client))
        {
            context.Response.Headers.RetryAfter = "5";
            await DashboardEndpoints.WriteProblemAsync(context, StatusCodes.Status429TooManyRequests, "Too many live connections", "The live stream's connection limit (FlowScope:MaxLiveSubscribers, FlowScope:MaxLiveSubscribersPerClient) is reached; close another dashboard tab or raise the limit.", null).ConfigureAwait(false);
            return;
        }

        try
        {
            await StreamAsync(context, services).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            Log.StreamFailed(services.GetRequiredService<ILoggerFactory>().CreateLogger("FlowScope.Embedded.Dashboard"), ex);
        }
        finally
        {
            subscriptions.Exit(client);
        }
    }

    private static async Task StreamAsync(HttpContext context, IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<FlowScopeOptions>>().Value;
        var store = services.GetRequiredService<ITraceStore>();
        var signal = services.GetRequiredService<LiveSignal>();
        var routine = services.GetRequiredService<RoutineRequests>();
        var time = services.GetRequiredService<TimeProvider>();
        var aborted = context.RequestAborted;

        var response = context.Response;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var body = ResponseCompression.ForEventStream(context);
        try
        {
            var writer = new EventWriter(response, body);
            writer.Comment("FlowScope live stream");
            writer.Retry(2000);

            long cursor;
            if (TryGetLastEventId(context.Request, out var lastEventId))
            {
                cursor = lastEventId;
            }
            else
            {
                // Read the version first: anything that changes during hydration is sent again afterwards, never missed.
                cursor = store.GetStats().Version;
                IReadOnlyList<TraceSummary> recent = [];
                if (options.HydrationTraceCount > 0)
                {
                    recent = (await store.QueryAsync(new TraceQuery { Limit = Math.Min(options.HydrationTraceCount, TraceQuery.MaxLimit) }, aborted).ConfigureAwait(false)).Traces;
                }

                writer.Event("hydrate", cursor, Serialize(recent, routine));
            }

            await writer.FlushAsync(aborted).ConfigureAwait(false);

            while (!aborted.IsCancellationRequested)
            {
                // Take the wake-up before looking, so a change between the look and the wait is not slept through.
                var changed = signal.WaitAsync();
                var sent = false;
                while (true)
                {
                    var changes = await store.GetChangesAsync(cursor, MaxTracesPerEvent, aborted).ConfigureAwait(false);
                    if (changes.Traces.Count == 0)
                    {
                        // The store may have restarted its numbering (see GetChangesAsync); follow it.
                        cursor = changes.Version;
                        break;
                    }

                    cursor = changes.Version;
                    if (changes.Evicted.Count > 0 || changes.EvictedOverflow)
                    {
                        writer.Event("evicted", null, DashboardEndpoints.Serialize(new EvictedEvent(changes.Evicted, changes.EvictedOverflow), DashboardJsonContext.Default.EvictedEvent));
                    }

                    writer.Event("traces", cursor, Serialize(changes.Traces, routine));
                    sent = true;
                    if (!changes.HasMore)
                    {
                        break;
                    }
                }

                if (sent)
                {
                    await writer.FlushAsync(aborted).ConfigureAwait(false);
                }

                var heartbeat = Task.Delay(options.HeartbeatInterval, time, aborted);
                var woke = await Task.WhenAny(changed, heartbeat).ConfigureAwait(false);
                aborted.ThrowIfCancellationRequested();
                if (woke == heartbeat)
                {
                    writer.Event("heartbeat", null, "{}");
                    await writer.FlushAsync(aborted).ConfigureAwait(false);
                    continue;
                }

                // Gather the burst into one batch.
                await Task.Delay(options.LiveUpdateInterval, time, aborted).ConfigureAwait(false);
            }
        }
        finally
        {
            if (body != response.Body)
            {
                // Ends the gzip stream; nothing more reaches a client that has gone.
                await DisposeQuietlyAsync(body).ConfigureAwait(false);
            }
        }
    }

    private static async ValueTask DisposeQuietlyAsync(Stream stream)
    {
        try
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The connection is gone: ending the gzip stream has nowhere to write. Nothing to report.
        }
    }

    private static bool TryGetLastEventId(HttpRequest request, out long version)
    {
        var text = request.Headers["Last-Event-ID"].ToString();
        if (string.IsNullOrEmpty(text))
        {
            text = request.Query["lastEventId"].ToString();
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out version) && version >= 0;
    }

    private static string Serialize(IReadOnlyList<TraceSummary> traces, RoutineRequests routine)
    {
        var dtos = new TraceSummaryDto[traces.Count];
        for (var i = 0; i < dtos.Length; i++)
        {
            dtos[i] = TraceSummaryDto.From(traces[i], routine);
        }

        return DashboardEndpoints.Serialize<IReadOnlyList<TraceSummaryDto>>(dtos, DashboardJsonContext.Default.IReadOnlyListTraceSummaryDto);
    }

    /// <summary>Writes the text/event-stream format.</summary>
    private sealed class EventWriter(HttpResponse response, Stream body)
    {
        private readonly StringBuilder _pending = new();

        public void Comment(string text) => _pending.Append(": ").Append(text).Append("\n\n");

        public void Retry(int milliseconds) => _pending.Append("retry: ").Append(milliseconds.ToString(CultureInfo.InvariantCulture)).Append("\n\n");

        public void Event(string name, long? id, string json)
        {
            _pending.Append("event: ").Append(name).Append('\n');
            if (id is { } value)
            {
                _pending.Append("id: ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            // Serialized JSON holds no raw line breaks, so one data line carries it.
            _pending.Append("data: ").Append(json).Append("\n\n");
        }

        public async Task FlushAsync(CancellationToken cancellationToken)
        {
            if (_pending.Length > 0)
            {
                var bytes = Encoding.UTF8.GetBytes(_pending.ToString());
                _pending.Clear();
                await body.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }

            if (body != response.Body)
            {
                // Ends the compressed block, so the batch can be decoded now.
                await body.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
