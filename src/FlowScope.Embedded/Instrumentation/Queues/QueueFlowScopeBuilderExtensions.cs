using System.Diagnostics.CodeAnalysis;
using FlowScope.Embedded;
using FlowScope.Embedded.Faults;
using FlowScope.Embedded.Queues;
using FlowScope.Embedded.Queues.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds FlowScope's traced in-process queues.</summary>
public static class QueueFlowScopeBuilderExtensions
{
    /// <summary>
    /// Adds an in-process queue of <typeparamref name="TMessage"/> handled by <typeparamref name="THandler"/>.
    /// Inject <see cref="IQueue{TMessage}"/> to enqueue (or <c>[FromKeyedServices(name)] IQueue&lt;TMessage&gt;</c> when
    /// several queues carry the same message type; the unkeyed service is the first one registered). The handler is
    /// resolved from a new scope for every attempt and runs in the background from host start to host stop.
    /// Options are bound from <c>FlowScope:Queues:{name}</c>, then <paramref name="configure"/> runs; they are
    /// validated when the host starts. Queues keep working when FlowScope is disabled; they are just not traced.
    /// </summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <typeparam name="THandler">The handler type, registered as scoped unless already registered.</typeparam>
    /// <param name="builder">The builder returned by <c>AddFlowScope</c>.</param>
    /// <param name="name">The queue's name, unique in the app (<c>messaging.destination.name</c>).</param>
    /// <param name="configure">Optional code configuration, applied after configuration binding.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or already used by another queue.</exception>
    public static IFlowScopeBuilder AddQueue<TMessage, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        this IFlowScopeBuilder builder,
        string name,
        Action<QueueOptions>? configure = null)
        where THandler : class, IQueueHandler<TMessage>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var services = builder.Services;

        var names = services.FirstOrDefault(d => d.ServiceType == typeof(QueueNames))?.ImplementationInstance as QueueNames;
        if (names is null)
        {
            names = new QueueNames();
            services.AddSingleton(names);
        }

        if (!names.Names.Add(name))
        {
            throw new ArgumentException($"A queue named '{name}' is already registered. Give each AddQueue call its own name.", nameof(name));
        }

        var optionsBuilder = services.AddOptions<QueueOptions>(name).BindConfiguration($"{FlowScopeOptions.SectionName}:Queues:{name}");
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        optionsBuilder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QueueOptions>, QueueOptionsValidator>());
        services.TryAddScoped<THandler>();

        services.AddKeyedSingleton(name, (sp, _) => new InProcessQueue<TMessage>(
            name,
            sp.GetRequiredService<IOptionsMonitor<QueueOptions>>().Get(name),
            sp.GetRequiredService<IServiceScopeFactory>(),
            static scoped => scoped.GetRequiredService<THandler>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("FlowScope.Embedded.Queues"),
            sp.GetService<FaultInjector>()));
        services.AddKeyedSingleton<IQueue<TMessage>>(name, (sp, _) => sp.GetRequiredKeyedService<InProcessQueue<TMessage>>(name));
        services.TryAddSingleton<IQueue<TMessage>>(sp => sp.GetRequiredKeyedService<InProcessQueue<TMessage>>(name));
        services.AddSingleton<IQueueRuntime>(sp => sp.GetRequiredKeyedService<InProcessQueue<TMessage>>(name));
        return builder;
    }
}
