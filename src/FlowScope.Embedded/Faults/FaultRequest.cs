namespace FlowScope.Embedded.Faults;

/// <summary>The body of <c>POST api/faults</c>: what to inject into which component, and for how long.</summary>
internal sealed record FaultRequest(
    string Kind,
    string Component,
    double DelayMs,
    double? MaxDelayMs,
    double FailureRate,
    double? DurationSeconds,
    long? MaxHits)
{
    internal const double MaxDelayMilliseconds = 60_000;
    internal const double MaxDurationSeconds = 86_400;
    internal const long MaxHitCount = 1_000_000;
    internal const int MaxComponentLength = 300;

    /// <summary>Checks a request as sent; the error names the field and the allowed range.</summary>
    public static FaultRequest? Validate(FaultRequestBody? body, out string? parameter, out string? error)
    {
        parameter = null;
        error = null;
        if (body is null)
        {
            (parameter, error) = ("body", "Send a JSON object such as {\"kind\":\"middleware\",\"component\":\"MyMiddleware\",\"delayMs\":200}.");
            return null;
        }

        var kind = FaultKind.Normalize(body.Kind);
        if (kind is null)
        {
            (parameter, error) = ("kind", $"kind must be one of {string.Join(", ", FaultKind.All)}.");
            return null;
        }

        var component = body.Component?.Trim();
        if (string.IsNullOrEmpty(component) || component.Length > MaxComponentLength)
        {
            (parameter, error) = ("component", $"component must name the {kind} (1 to {MaxComponentLength} characters), as listed in targets by GET api/faults.");
            return null;
        }

        var delay = body.DelayMs ?? 0;
        if (!double.IsFinite(delay) || delay < 0 || delay > MaxDelayMilliseconds)
        {
            (parameter, error) = ("delayMs", $"delayMs must be between 0 and {MaxDelayMilliseconds}.");
            return null;
        }

        if (body.MaxDelayMs is { } maxDelay && (!double.IsFinite(maxDelay) || maxDelay < delay || maxDelay > MaxDelayMilliseconds))
        {
            (parameter, error) = ("maxDelayMs", $"maxDelayMs (the top of a random delay range) must be between delayMs and {MaxDelayMilliseconds}.");
            return null;
        }

        var rate = body.FailureRate ?? 0;
        if (!double.IsFinite(rate) || rate < 0 || rate > 1)
        {
            (parameter, error) = ("failureRate", "failureRate must be between 0 (never) and 1 (every time).");
            return null;
        }

        if (delay == 0 && (body.MaxDelayMs ?? 0) == 0 && rate == 0)
        {
            (parameter, error) = ("delayMs", "Inject something: a delayMs above 0, a maxDelayMs range, or a failureRate above 0.");
            return null;
        }

        if (body.DurationSeconds is { } duration && (!double.IsFinite(duration) || duration < 1 || duration > MaxDurationSeconds))
        {
            (parameter, error) = ("durationSeconds", $"durationSeconds must be between 1 and {MaxDurationSeconds}.");
            return null;
        }

        if (body.MaxHits is { } hits && (hits < 1 || hits > MaxHitCount))
        {
            (parameter, error) = ("maxHits", $"maxHits must be between 1 and {MaxHitCount}.");
            return null;
        }

        return new FaultRequest(kind, component, delay, body.MaxDelayMs, rate, body.DurationSeconds, body.MaxHits);
    }
}

/// <summary>The JSON body as received, every field optional so missing ones get a clear error.</summary>
internal sealed record FaultRequestBody(
    string? Kind,
    string? Component,
    double? DelayMs,
    double? MaxDelayMs,
    double? FailureRate,
    double? DurationSeconds,
    long? MaxHits);
