using FlowScope.Embedded;
using FlowScope.Embedded.Simulators;
using FlowScope.Embedded.Simulators.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds simulators: named sources of load the dashboard can start, stop and pace.</summary>
public static class SimulatorFlowScopeBuilderExtensions
{
    /// <summary>
    /// Registers a simulator. While it runs, FlowScope calls <paramref name="run"/> at the simulator's rate (one run
    /// at a time, each in a new service scope and in a trace of its own whose root span is <c>simulate {name}</c>,
    /// component <c>simulator</c>). Operators start, stop and pace it from the dashboard's Controls view or
    /// <c>POST {DashboardPath}/api/simulators</c>. A failing run is counted and shown, the first failure after each
    /// start is logged, and the simulator keeps going. Options are bound from <c>FlowScope:Simulators:{name}</c>, then
    /// <paramref name="configure"/> runs. Nothing runs while FlowScope is disabled.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddFlowScope</c>.</param>
    /// <param name="name">The simulator's name, unique in the app: letters, digits, '-', '_' and '.', up to 64 characters.</param>
    /// <param name="run">One unit of simulated work, for example one simulated user sending one message.</param>
    /// <param name="configure">Optional code configuration, applied after configuration binding.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid name or is already used.</exception>
    public static IFlowScopeBuilder AddSimulator(
        this IFlowScopeBuilder builder,
        string name,
        Func<IServiceProvider, CancellationToken, Task> run,
        Action<SimulatorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(run);
        if (!SimulatorRegistration.IsValidName(name))
        {
            throw new ArgumentException($"'{name}' is not a valid simulator name: use 1 to 64 letters, digits, '-', '_' or '.'.", nameof(name));
        }

        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(SimulatorRegistration) && d.ImplementationInstance is SimulatorRegistration r && string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"A simulator named '{name}' is already registered. Give each AddSimulator call its own name.", nameof(name));
        }

        var optionsBuilder = services.AddOptions<SimulatorOptions>(name).BindConfiguration($"{FlowScopeOptions.SectionName}:Simulators:{name}");
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        optionsBuilder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SimulatorOptions>, SimulatorOptionsValidator>());
        services.AddSingleton(new SimulatorRegistration(name, run));
        return builder;
    }
}
