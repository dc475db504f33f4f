namespace FlowScope.Embedded.Faults;

/// <summary>
/// The failure FlowScope throws when an operator injected a failure rate into a component from the dashboard. It
/// travels the component's real error path (exception handlers, queue retries and dead letters), and the span it
/// fails carries the <c>flowscope.fault.*</c> attributes so it is never mistaken for a real failure.
/// </summary>
public sealed class InjectedFaultException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="InjectedFaultException"/> class.</summary>
    public InjectedFaultException()
        : base("FlowScope injected this failure.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="InjectedFaultException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public InjectedFaultException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="InjectedFaultException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public InjectedFaultException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the id of the injection that caused this failure (as listed by <c>{DashboardPath}/api/faults</c>).</summary>
    public string? FaultId { get; init; }

    /// <summary>Gets the component the failure was injected into.</summary>
    public string? Component { get; init; }
}
