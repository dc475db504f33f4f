namespace FlowScope.Embedded.Testing;

/// <summary>
/// Thrown when a trace assertion fails or an awaited trace is not complete in time. The message describes what was
/// expected and shows the trace as a text tree; test frameworks report it as a failure like their own assertions.
/// </summary>
public sealed class TraceAssertionException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public TraceAssertionException()
        : base("A trace assertion failed.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    /// <param name="message">What was expected and what the trace holds.</param>
    public TraceAssertionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and the exception that caused it.</summary>
    /// <param name="message">What was expected and what the trace holds.</param>
    /// <param name="innerException">The cause.</param>
    public TraceAssertionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a failed assertion on <paramref name="trace"/>.</summary>
    /// <param name="message">What was expected and what the trace holds.</param>
    /// <param name="trace">The trace the assertion was made on, or <see langword="null"/> when none was recorded.</param>
    public TraceAssertionException(string message, CapturedTrace? trace)
        : base(message)
    {
        Trace = trace;
    }

    /// <summary>Gets the trace the failed assertion was made on, when there was one.</summary>
    public CapturedTrace? Trace { get; }
}
