using System.Diagnostics.Metrics;
using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Diagnostics;

/// <summary>
/// FlowScope's self-metrics on the <c>FlowScope</c> meter: spans captured, dropped and evicted, and what the store
/// holds. Observable instruments read the existing counters, so measuring adds nothing to the request path.
/// </summary>
internal sealed class FlowScopeMetrics
{
    public FlowScopeMetrics(IMeterFactory meterFactory, SpanBuffer buffer, ITraceStore store, PumpCounters pump)
    {
        var meter = meterFactory.Create(FlowScopeSources.MeterName);
        meter.CreateObservableCounter("flowscope.spans.captured", () => pump.Read(buffer, store).Captured, "{span}", "Spans recorded (pipeline stages included): stored, dropped, rejected, evicted or failed.");
        meter.CreateObservableCounter("flowscope.spans.dropped", () => buffer.Dropped, "{span}", "Spans dropped because the buffer was full.");
        meter.CreateObservableCounter("flowscope.spans.failed", () => pump.Failed, "{span}", "Spans that could not be converted or stored.");
        meter.CreateObservableCounter("flowscope.spans.evicted", () => store.GetStats().EvictedSpans, "{span}", "Spans removed from the store with evicted traces.");
        meter.CreateObservableCounter("flowscope.spans.rejected", () => store.GetStats().RejectedSpans, "{span}", "Spans refused because their trace reached its span limit.");
        meter.CreateObservableUpDownCounter("flowscope.store.memory", () => store.GetStats().MemoryBytes, "By", "Memory the trace store holds.");
        meter.CreateObservableUpDownCounter("flowscope.traces.stored", () => store.GetStats().StoredTraces, "{trace}", "Traces held by the store.");
        meter.CreateObservableUpDownCounter("flowscope.buffer.count", () => (long)buffer.Count, "{span}", "Spans waiting in the buffer.");
    }
}
