using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Redis.Internal;

/// <summary>Checks the options when the host starts; each message names the setting to fix.</summary>
internal sealed class RedisStreamsOptionsValidator : IValidateOptions<RedisStreamsOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisStreamsOptions options)
    {
        if (!options.IsEnabled)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        try
        {
            _ = RedisConnection.CreateConfiguration(options);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            failures.Add($"FlowScope:Redis:ConnectionString is not a valid StackExchange.Redis connection string: {ex.Message}");
        }

        if (string.IsNullOrWhiteSpace(options.KeyPrefix) || options.KeyPrefix.Any(char.IsWhiteSpace))
        {
            failures.Add("FlowScope:Redis:KeyPrefix must be a non-empty key prefix without spaces.");
        }

        if (options.Shards < 1 || options.Shards > RedisStreamsOptions.MaxShards)
        {
            failures.Add($"FlowScope:Redis:Shards must be between 1 and {RedisStreamsOptions.MaxShards}.");
        }
        else if (options.Shards > 1 && options.KeyPrefix is { } prefix && (prefix.Contains('{', StringComparison.Ordinal) || prefix.Contains('}', StringComparison.Ordinal)))
        {
            failures.Add("FlowScope:Redis:KeyPrefix must not contain '{' or '}' when Shards is more than 1: each shard adds a hash tag of its own, and a tag in the prefix would put every shard in one hash slot (remove the braces, e.g. 'flowscope').");
        }

        if (options.Shards > 1 && options.WriterQueueCapacity < options.Shards)
        {
            failures.Add("FlowScope:Redis:WriterQueueCapacity must be at least Shards (each shard gets an equal part).");
        }

        if (string.IsNullOrWhiteSpace(options.ConsumerGroupName))
        {
            failures.Add("FlowScope:Redis:ConsumerGroupName must not be empty.");
        }

        Positive(failures, options.MaxStreamEntries, nameof(options.MaxStreamEntries));
        Positive(failures, options.MaxSpansPerEntry, nameof(options.MaxSpansPerEntry));
        Positive(failures, options.WriterQueueCapacity, nameof(options.WriterQueueCapacity));
        Positive(failures, options.RetryBufferCapacity, nameof(options.RetryBufferCapacity));
        Positive(failures, options.MaxHistoryEntriesOnStart, nameof(options.MaxHistoryEntriesOnStart));
        Positive(failures, options.RetryBaseDelay, nameof(options.RetryBaseDelay));
        Positive(failures, options.ConnectTimeout, nameof(options.ConnectTimeout));
        Positive(failures, options.OperationTimeout, nameof(options.OperationTimeout));
        Positive(failures, options.PollInterval, nameof(options.PollInterval));
        Positive(failures, options.ClaimMinIdleTime, nameof(options.ClaimMinIdleTime));
        Positive(failures, options.ClaimInterval, nameof(options.ClaimInterval));
        Positive(failures, options.IndexTimeToLive, nameof(options.IndexTimeToLive));
        Positive(failures, options.ShutdownTimeout, nameof(options.ShutdownTimeout));
        if (options.MaxSpansPerEntry > 10_000)
        {
            failures.Add("FlowScope:Redis:MaxSpansPerEntry must be at most 10000: larger entries make single reads slow.");
        }

        if (options.RetryMaxDelay < options.RetryBaseDelay)
        {
            failures.Add("FlowScope:Redis:RetryMaxDelay must not be shorter than RetryBaseDelay.");
        }

        Positive(failures, options.MaxKeptTraces, nameof(options.MaxKeptTraces));
        if (options.KeptRetention is { } kept && kept <= TimeSpan.Zero)
        {
            failures.Add("FlowScope:Redis:KeptRetention must be positive, or unset to keep no copies of error and slow traces.");
        }

        if (options.Retention is { } retention && retention <= TimeSpan.Zero)
        {
            failures.Add("FlowScope:Redis:Retention must be positive, or unset to trim by MaxStreamEntries only.");
        }

        if (options.RetryBufferCapacity < options.MaxSpansPerEntry)
        {
            failures.Add("FlowScope:Redis:RetryBufferCapacity must hold at least one entry (MaxSpansPerEntry spans).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, long value, string name)
    {
        if (value <= 0)
        {
            failures.Add($"FlowScope:Redis:{name} must be positive.");
        }
    }

    private static void Positive(List<string> failures, TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"FlowScope:Redis:{name} must be positive.");
        }
    }
}
