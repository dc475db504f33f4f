using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Simulators.Internal;

/// <summary>A simulator as registered: its name and what one run does.</summary>
internal sealed class SimulatorRegistration(string name, Func<IServiceProvider, CancellationToken, Task> run)
{
    public string Name { get; } = name;

    public Func<IServiceProvider, CancellationToken, Task> Run { get; } = run;

    public static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}

/// <summary>Checks simulator options at start so a bad value fails the host with a message naming the key.</summary>
internal sealed class SimulatorOptionsValidator : IValidateOptions<SimulatorOptions>
{
    public ValidateOptionsResult Validate(string? name, SimulatorOptions options)
    {
        var prefix = $"FlowScope:Simulators:{name}";
        if (!double.IsFinite(options.MaxRatePerSecond) || options.MaxRatePerSecond < SimulatorOptions.MinRatePerSecond || options.MaxRatePerSecond > 10_000)
        {
            return ValidateOptionsResult.Fail($"{prefix}:MaxRatePerSecond must be between {SimulatorOptions.MinRatePerSecond} and 10000 (was {options.MaxRatePerSecond}).");
        }

        if (!double.IsFinite(options.RatePerSecond) || options.RatePerSecond < SimulatorOptions.MinRatePerSecond || options.RatePerSecond > options.MaxRatePerSecond)
        {
            return ValidateOptionsResult.Fail($"{prefix}:RatePerSecond must be between {SimulatorOptions.MinRatePerSecond} and MaxRatePerSecond ({options.MaxRatePerSecond}) (was {options.RatePerSecond}).");
        }

        if (options.Description is { Length: > 500 })
        {
            return ValidateOptionsResult.Fail($"{prefix}:Description must be at most 500 characters.");
        }

        return ValidateOptionsResult.Success;
    }
}
