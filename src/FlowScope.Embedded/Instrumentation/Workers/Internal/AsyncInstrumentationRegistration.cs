using FlowScope.Embedded.Queues.Internal;
using FlowScope.Embedded.Workers;
using FlowScope.Embedded.Workers.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the worker observer, the worker scopes and the queue host; called once by <c>AddFlowScope</c>.</summary>
internal static class AsyncInstrumentationRegistration
{
    internal static IServiceCollection AddFlowScopeAsyncInstrumentation(this IServiceCollection services)
    {
        services.TryAddSingleton<WorkerRegistry>();
        services.TryAdd(ServiceDescriptor.Singleton(typeof(IWorkerScope<>), typeof(WorkerScope<>)));
        services.TryAddSingleton<QueueRegistry>();
        services.TryAddSingleton<QueueMeter>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, WorkerLifecycleObserver>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, QueueHost>());
        return services;
    }
}
