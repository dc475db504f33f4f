using System.Diagnostics;
using FlowScope.Embedded.Instrumentation;
using System.Text.Json.Serialization.Metadata;
using FlowScope.Embedded.Steps.Internal;
using FlowScope.Embedded.Workers.Internal;

namespace FlowScope.Embedded.Steps;

/// <summary>
/// A step in progress, from <see cref="FlowScopeSteps.Start(string)"/>. Observations become <c>observation</c> events
/// of the step's span, a decision becomes a <c>decision</c> event and the span's <c>flowscope.step.decision</c>
/// attribute. Values are capped at <see cref="FlowScopeSteps.MaxObservationLength"/>. No method throws because of
/// what it records: a value that cannot be serialized is recorded as such.
/// </summary>
public sealed class FlowScopeStep : IDisposable
{
    internal static readonly FlowScopeStep NotRecording = new(null, null);

    private readonly Activity? _activity;
    private readonly Activity? _previous;
    private int _observations;
    private int _dropped;
    private bool _failed;
    private int _disposed;

    internal FlowScopeStep(Activity? activity, Activity? previous)
    {
        _activity = activity;
        _previous = previous;
    }

    /// <summary>Gets whether the step is recorded; when <see langword="false"/>, every method returns at once.</summary>
    public bool IsRecording => _activity is { IsAllDataRequested: true };

    /// <summary>Gets the step's span, or <see langword="null"/> when nobody records it.</summary>
    public Activity? Activity => _activity;

    /// <summary>Records a text observation.</summary>
    /// <param name="key">What was observed.</param>
    /// <param name="value">The value; <see langword="null"/> is recorded as <c>null</c>.</param>
    public void Observe(string key, string? value)
    {
        if (!IsRecording)
        {
            return;
        }

        try
        {
            if (value is null)
            {
                AddObservation(key, "null", "null", truncated: false);
                return;
            }

            var truncated = value.Length > FlowScopeSteps.MaxObservationLength;
            AddObservation(key, truncated ? Cut(value) : value, "string", truncated);
        }
        catch (Exception ex)
        {
            InstrumentationFailures.Report("step", ex);
        }
    }

    /// <summary>Records a whole-number observation.</summary>
    /// <param name="key">What was observed.</param>
    /// <param name="value">The value.</param>
    public void Observe(string key, long value)
    {
        if (IsRecording)
        {
            AddObservation(key, value, "number", truncated: false);
        }
    }

    /// <summary>Records a numeric observation.</summary>
    /// <param name="key">What was observed.</param>
    /// <param name="value">The value.</param>
    public void Observe(string key, double value)
    {
        if (IsRecording)
        {
            AddObservation(key, value, "number", truncated: false);
        }
    }

    /// <summary>Records a yes/no observation.</summary>
    /// <param name="key">What was observed.</param>
    /// <param name="value">The value.</param>
    public void Observe(string key, bool value)
    {
        if (IsRecording)
        {
            AddObservation(key, value, "bool", truncated: false);
        }
    }

    /// <summary>
    /// Records an object as JSON, serialized with its source-generated <paramref name="typeInfo"/> (trimming- and
    /// AOT-safe). Serialization stops at the size cap; a value that cannot be serialized (a cycle, a throwing
    /// property) is recorded as <c>(unserializable)</c> with the error, never thrown.
    /// </summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="key">What was observed.</param>
    /// <param name="value">The value.</param>
    /// <param name="typeInfo">The value's JSON contract, for example <c>MyJsonContext.Default.Order</c>.</param>
    public void Observe<T>(string key, T value, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        if (!IsRecording)
        {
            return;
        }

        string json;
        bool truncated;
        try
        {
            (json, truncated) = CappedJson.Serialize(value, typeInfo, FlowScopeSteps.MaxObservationLength);
        }
        catch (Exception ex)
        {
            // The value's own fault (cycle, unsupported member, throwing getter): recorded, not thrown.
            AddObservation(key, "(unserializable)", "json", truncated: false, error: $"{ex.GetType().FullName}: {ex.Message}");
            return;
        }

        AddObservation(key, truncated ? json + "…" : json, "json", truncated);
    }

    /// <summary>Records what the step decided and why: a <c>decision</c> event and the span attributes <c>flowscope.step.decision</c>/<c>flowscope.step.reason</c>.</summary>
    /// <param name="decision">The decision, for example the chosen route.</param>
    /// <param name="reason">Why, or <see langword="null"/>.</param>
    public void Decide(string decision, string? reason = null)
    {
        if (!IsRecording)
        {
            return;
        }

        try
        {
            decision = Cut(decision ?? "null");
            reason = reason is null ? null : Cut(reason);
            _activity!.SetTag(StepAttributes.Decision, decision);
            _activity.SetTag(StepAttributes.Reason, reason);
            var tags = new ActivityTagsCollection { [StepAttributes.Decision] = decision };
            if (reason is not null)
            {
                tags[StepAttributes.Reason] = reason;
            }

            _activity.AddEvent(new ActivityEvent(StepAttributes.DecisionEvent, default, tags));
        }
        catch (Exception ex)
        {
            InstrumentationFailures.Report("step", ex);
        }
    }

    /// <summary>Marks the step as failed: error status, an <c>exception</c> event and outcome <c>error</c>.</summary>
    /// <param name="exception">What went wrong.</param>
    public void Fail(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        _failed = true;
        InstrumentationFailures.MarkFailed(_activity, exception, "step");
    }

    /// <summary>Marks the step as failed without an exception: error status with <paramref name="reason"/>, outcome <c>error</c>.</summary>
    /// <param name="reason">Why the step failed.</param>
    public void Fail(string reason)
    {
        _failed = true;
        try
        {
            _activity?.SetStatus(ActivityStatusCode.Error, reason is null ? null : Cut(reason));
        }
        catch (Exception ex)
        {
            InstrumentationFailures.Report("step", ex);
        }
    }

    /// <summary>Ends the step (outcome <c>ok</c> unless it failed) and restores the activity that was current before.</summary>
    public void Dispose()
    {
        if (_activity is null || Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        OwnSpans.End(_activity, _previous, StepAttributes.Outcome, _failed ? "error" : "ok", "step", _dropped);
    }

    private void AddObservation(string key, object value, string type, bool truncated, string? error = null)
    {
        try
        {
            if (Interlocked.Increment(ref _observations) > FlowScopeSteps.MaxObservationsPerStep)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }

            var tags = new ActivityTagsCollection
            {
                [StepAttributes.Key] = string.IsNullOrEmpty(key) ? "(unnamed)" : Cut(key),
                [StepAttributes.Value] = value,
                [StepAttributes.Type] = type,
            };
            if (truncated)
            {
                tags[StepAttributes.Truncated] = true;
            }

            if (error is not null)
            {
                tags[StepAttributes.Error] = Cut(error);
            }

            _activity!.AddEvent(new ActivityEvent(StepAttributes.ObservationEvent, default, tags));
        }
        catch (Exception ex)
        {
            InstrumentationFailures.Report("step", ex);
        }
    }

    private static string Cut(string value)
    {
        if (value.Length <= FlowScopeSteps.MaxObservationLength)
        {
            return value;
        }

        var length = FlowScopeSteps.MaxObservationLength;
        if (char.IsHighSurrogate(value[length - 1]))
        {
            length--;
        }

        return string.Concat(value.AsSpan(0, length), "…");
    }
}
