namespace FlowScope.Embedded.Queues.Internal;

/// <summary>The queue names registered so far, kept in the service collection so a duplicate fails at registration.</summary>
internal sealed class QueueNames
{
    public HashSet<string> Names { get; } = new(StringComparer.OrdinalIgnoreCase);
}
