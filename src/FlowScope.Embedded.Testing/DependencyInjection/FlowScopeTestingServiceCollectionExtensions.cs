using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Testing;
using FlowScope.Embedded.Testing.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers what <see cref="TraceCapture"/> needs in the app under test.</summary>
public static class FlowScopeTestingServiceCollectionExtensions
{
    /// <summary>
    /// Lets tests wait for the app's traces: the trace store FlowScope registered (in memory, Redis or your own) is kept
    /// and observed, so <see cref="TraceCapture"/> learns of each batch of spans the moment it is stored instead of
    /// polling. Nothing else about the app changes.
    /// </summary>
    /// <remarks>
    /// Call it after <c>AddFlowScope()</c> and after anything that replaces the store (<c>AddRedisStreams()</c>). With
    /// <c>WebApplicationFactory</c>, call it from <c>ConfigureTestServices</c>, which runs after the app's own
    /// registrations. Calling it twice is harmless.
    /// </remarks>
    /// <param name="services">The app's services.</param>
    /// <returns>The same services, for chaining.</returns>
    /// <exception cref="InvalidOperationException">No FlowScope trace store is registered yet.</exception>
    public static IServiceCollection AddFlowScopeTesting(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        var index = -1;
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(ITraceStore) && !services[i].IsKeyedService)
            {
                index = i;
                break;
            }
        }

        if (index < 0)
        {
            throw new InvalidOperationException(
                "No FlowScope trace store is registered: call services.AddFlowScope() before services.AddFlowScopeTesting() " +
                "(with WebApplicationFactory, call AddFlowScopeTesting() in ConfigureTestServices).");
        }

        var original = services[index];
        if (services.Any(d => d.ServiceType == typeof(TestingRegistration) && ReferenceEquals(((TestingRegistration)d.ImplementationInstance!).Descriptor, original)))
        {
            return services;
        }

        var observed = ServiceDescriptor.Singleton<ITraceStore>(sp => new ObservedTraceStore(Resolve(sp, original)));
        services[index] = observed;
        services.AddSingleton(new TestingRegistration(observed));
        return services;
    }

    private static ITraceStore Resolve(IServiceProvider services, ServiceDescriptor descriptor) =>
        descriptor.ImplementationInstance as ITraceStore
        ?? descriptor.ImplementationFactory?.Invoke(services) as ITraceStore
        ?? (ITraceStore)ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!);
}
