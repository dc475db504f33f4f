using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Queues.Internal;

/// <summary>Checks each queue's options at start so a bad value fails the host with the key named.</summary>
internal sealed class QueueOptionsValidator : IValidateOptions<QueueOptions>
{
    public ValidateOptionsResult Validate(string? name, QueueOptions options)
    {
        var failures = new List<string>();
        var prefix = $"FlowScope:Queues:{name}:";

        void Range(string key, long value, long min, long max)
        {
            if (value < min || value > max)
            {
                failures.Add($"{prefix}{key} must be between {min} and {max} (was {value}).");
            }
        }

        Range(nameof(options.Capacity), options.Capacity, 1, 10_000_000);
        Range(nameof(options.MaxAttempts), options.MaxAttempts, 1, 1_000);
        Range(nameof(options.HandlerConcurrency), options.HandlerConcurrency, 1, 1_024);
        Range(nameof(options.DeadLetterCapacity), options.DeadLetterCapacity, 0, 100_000);

        if (options.BackoffBase < TimeSpan.Zero || options.BackoffBase > TimeSpan.FromHours(1))
        {
            failures.Add($"{prefix}{nameof(options.BackoffBase)} must be between 0 and 1 hour (was {options.BackoffBase}).");
        }

        if (options.BackoffMax < options.BackoffBase || options.BackoffMax > TimeSpan.FromDays(1))
        {
            failures.Add($"{prefix}{nameof(options.BackoffMax)} must be at least {nameof(options.BackoffBase)} and at most 1 day (was {options.BackoffMax}).");
        }

        if (!Enum.IsDefined(options.FullMode))
        {
            failures.Add($"{prefix}{nameof(options.FullMode)} must be Wait or Throw (was {options.FullMode}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
