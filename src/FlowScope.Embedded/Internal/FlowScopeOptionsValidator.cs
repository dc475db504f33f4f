using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Internal;

/// <summary>Checks options at start so a bad value fails the host with a message naming the key.</summary>
internal sealed class FlowScopeOptionsValidator : IValidateOptions<FlowScopeOptions>
{
    public ValidateOptionsResult Validate(string? name, FlowScopeOptions options)
    {
        var failures = new List<string>();

        void Range(string key, long value, long min, long max)
        {
            if (value < min || value > max)
            {
                failures.Add($"FlowScope:{key} must be between {min} and {max} (was {value}).");
            }
        }

        void Positive(string key, TimeSpan value, TimeSpan max)
        {
            if (value <= TimeSpan.Zero || value > max)
            {
                failures.Add($"FlowScope:{key} must be greater than zero and at most {max} (was {value}).");
            }
        }

        Range(nameof(options.BufferCapacity), options.BufferCapacity, 16, 4_000_000);
        Range(nameof(options.MaxStoreMegabytes), options.MaxStoreMegabytes, InMemoryTraceStore.MinCapacityBytes / (1024 * 1024), 1024 * 1024);
        Range(nameof(options.MaxTraces), options.MaxTraces, 0, 100_000_000);
        Range(nameof(options.NPlusOneThreshold), options.NPlusOneThreshold, 2, 1_000_000);
        var retention = options.Retention;
        foreach (var (key, share) in new[] { ("ErrorShare", retention.ErrorShare), ("SlowShare", retention.SlowShare), ("SampleShare", retention.SampleShare) })
        {
            if (!(share >= 0 && share <= 0.5))
            {
                failures.Add($"FlowScope:Retention:{key} must be between 0 and 0.5 (was {share}).");
            }
        }

        if (retention.ErrorShare + retention.SlowShare + retention.SampleShare > 0.75)
        {
            failures.Add("FlowScope:Retention: ErrorShare + SlowShare + SampleShare must leave at least a quarter of the store to the newest traces (at most 0.75 together).");
        }

        Range("Retention:SamplesPerRoute", retention.SamplesPerRoute, 0, 10_000);
        Positive("Retention:SlowThreshold", retention.SlowThreshold, TimeSpan.FromDays(1));
        Range(nameof(options.MaxSpansPerTrace), options.MaxSpansPerTrace, 1, 1_000_000);
        Range(nameof(options.MaxAttributesPerSpan), options.MaxAttributesPerSpan, 0, 10_000);
        Range(nameof(options.MaxAttributeValueLength), options.MaxAttributeValueLength, 16, 1_000_000);
        Range(nameof(options.MaxEventsPerSpan), options.MaxEventsPerSpan, 0, 100_000);
        Range(nameof(options.HydrationTraceCount), options.HydrationTraceCount, 0, 10_000);
        Range(nameof(options.MaxLiveSubscribers), options.MaxLiveSubscribers, 1, 10_000);
        Range(nameof(options.MaxLiveSubscribersPerClient), options.MaxLiveSubscribersPerClient, 1, 10_000);
        if (options.DashboardAuthorizationPolicy is { } policy && string.IsNullOrWhiteSpace(policy))
        {
            failures.Add("FlowScope:DashboardAuthorizationPolicy must name a policy registered with AddAuthorization, or be left unset.");
        }
        if (options.OperatorAuthorizationPolicy is { } operatorPolicy && string.IsNullOrWhiteSpace(operatorPolicy))
        {
            failures.Add("FlowScope:OperatorAuthorizationPolicy must name a policy registered with AddAuthorization, or be left unset.");
        }

        failures.AddRange(Dashboard.HostCheck.Validate(options.DashboardAllowedHosts));
        Positive(nameof(options.LiveUpdateInterval), options.LiveUpdateInterval, TimeSpan.FromSeconds(10));
        Positive(nameof(options.HeartbeatInterval), options.HeartbeatInterval, TimeSpan.FromMinutes(10));

        var path = options.DashboardPath;
        if (string.IsNullOrEmpty(path) || path[0] != '/' || path.Length < 2 || path.EndsWith('/') || path.Contains('?', StringComparison.Ordinal) || path.Contains('#', StringComparison.Ordinal))
        {
            failures.Add($"FlowScope:DashboardPath must start with '/', not end with '/', and hold no query or fragment (was '{path}'), e.g. '/_flowscope'.");
        }

        foreach (var source in options.Sources)
        {
            if (string.IsNullOrWhiteSpace(source))
            {
                failures.Add("FlowScope:Sources must not contain empty names.");
                break;
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
