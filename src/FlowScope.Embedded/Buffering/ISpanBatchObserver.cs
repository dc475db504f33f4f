using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Buffering;

/// <summary>Sees every batch of spans the pump stored, in their encoded form (live metrics, the component map). Called on the pump only.</summary>
internal interface ISpanBatchObserver
{
    void Observe(SpanBatch batch);
}
