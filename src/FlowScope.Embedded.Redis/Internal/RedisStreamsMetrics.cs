using System.Diagnostics.Metrics;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>
/// Meters on <c>FlowScope.Redis</c>: observable instruments reading the writer's, reader's and consumer's counters,
/// so measuring costs nothing until a listener collects.
/// </summary>
internal sealed class RedisStreamsMetrics
{
    public const string MeterName = "FlowScope.Redis";

    public RedisStreamsMetrics(IMeterFactory meterFactory, RedisStreamsRuntime runtime)
    {
        if (runtime.Writer is not { } writer)
        {
            return;
        }

        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableCounter("flowscope.redis.spans.persisted", () => writer.GetStats().Persisted, "{span}", "Spans written to the Redis stream.");
        meter.CreateObservableCounter("flowscope.redis.spans.dropped", () => writer.GetStats().Dropped, "{span}", "Spans given up before reaching Redis (queue full, retry buffer full, shutdown).");
        meter.CreateObservableUpDownCounter("flowscope.redis.spans.waiting", () => writer.GetStats().Waiting, "{span}", "Spans queued or waiting for retry.");
        meter.CreateObservableUpDownCounter("flowscope.redis.retry_buffer.spans", () => writer.GetStats().Retrying, "{span}", "Spans in the retry buffer after a failed write.");
        meter.CreateObservableCounter("flowscope.redis.writes.failed", () => writer.GetStats().FailedWrites, "{write}", "Failed stream writes (each is retried).");
        meter.CreateObservableGauge("flowscope.redis.writer.lag", () => writer.GetStats().Lag.TotalSeconds, "s", "Age of the oldest span not yet persisted.");
        if (runtime.Reader is { } reader)
        {
            meter.CreateObservableCounter("flowscope.redis.reader.spans", () => reader.GetStats().SpansAdded, "{span}", "Spans of other instances read from the stream.");
        }

        if (runtime.Index is { } index)
        {
            meter.CreateObservableCounter("flowscope.redis.index.entries", () => index.GetStats().Processed, "{entry}", "Entries applied to the shared index by this consumer.");
            meter.CreateObservableCounter("flowscope.redis.index.reclaimed", () => index.GetStats().Reclaimed, "{entry}", "Entries reclaimed from idle consumers.");
        }
    }
}
