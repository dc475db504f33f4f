using FlowScope.Embedded;
using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Dashboard;
using FlowScope.Embedded.Database;
using FlowScope.Embedded.Diagnostics;
using FlowScope.Embedded.Faults;
using FlowScope.Embedded.Operator;
using FlowScope.Embedded.Simulators.Internal;
using FlowScope.Embedded.Instrumentation.Logging;
using FlowScope.Embedded.Instrumentation.Mvc;
using FlowScope.Embedded.Instrumentation.Pipeline;
using FlowScope.Embedded.Internal;
using FlowScope.Embedded.Metrics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.HttpLogging;
using Microsoft.AspNetCore.Mvc;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers FlowScope in an application's services.</summary>
public static class FlowScopeServiceCollectionExtensions
{
    /// <summary>
    /// Adds FlowScope: capture of every request's activities, the bounded buffer, the in-memory trace store and the
    /// dashboard's services. Options are bound from the <c>FlowScope</c> configuration section, then
    /// <paramref name="configure"/> runs, and the result is validated when the host starts.
    /// Then call <c>app.UseFlowScope()</c>.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Optional code configuration, applied after configuration binding.</param>
    /// <returns>A builder for FlowScope add-ons.</returns>
    public static IFlowScopeBuilder AddFlowScope(this IServiceCollection services, Action<FlowScopeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var optionsBuilder = services.AddOptions<FlowScopeOptions>().BindConfiguration(FlowScopeOptions.SectionName);
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        optionsBuilder.ValidateOnStart();

        if (services.Any(d => d.ServiceType == typeof(FlowScopeMarker)))
        {
            return new FlowScopeBuilder(services);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FlowScopeOptions>, FlowScopeOptionsValidator>());
        services.AddRouting();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<FlowScopeMarker>();

        services.AddSingleton(sp => new SpanBuffer(Options(sp).BufferCapacity));
        services.AddSingleton(sp => new ActivitySourceFilter(Options(sp).Sources, Options(sp).CaptureDatabaseCommands));
        services.AddSingleton<ActivityCapture>();
        services.AddSingleton(sp =>
        {
            var options = Options(sp);
            return new Redactor(options.RedactedNames, options.RedactValue);
        });
        services.AddSingleton(sp =>
        {
            var options = Options(sp);
            return new SpanConverter(options, options.InstanceName ?? $"{Environment.MachineName}/{Environment.ProcessId}", sp.GetRequiredService<Redactor>());
        });
        services.TryAddSingleton<ITraceStore>(sp =>
        {
            var options = Options(sp);
            return new InMemoryTraceStore(options.MaxStoreMegabytes * 1024L * 1024, options.MaxSpansPerTrace, options.MaxTraces, options.Retention);
        });
        services.AddSingleton<LiveSignal>();
        services.AddSingleton<PumpCounters>();
        services.AddSingleton(sp => new SpanPump(
            sp.GetRequiredService<SpanBuffer>(),
            sp.GetRequiredService<SpanConverter>(),
            sp.GetRequiredService<ITraceStore>(),
            sp.GetRequiredService<LiveSignal>(),
            sp.GetRequiredService<PumpCounters>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("FlowScope.Embedded.Pump"),
            sp.GetServices<ISpanBatchObserver>()));
        services.AddSingleton<RequestMetrics>();
        services.AddSingleton<ComponentGraph>();
        services.AddSingleton<ISpanBatchObserver>(sp => sp.GetRequiredService<RequestMetrics>());
        services.AddSingleton<ISpanBatchObserver>(sp => sp.GetRequiredService<ComponentGraph>());
        services.AddSingleton<FlowScopeMetrics>();
        services.AddSingleton<LiveSubscriptions>();
        services.AddSingleton<DashboardAssets>();
        services.AddSingleton<RoutineRequests>();
        services.AddSingleton<DashboardAccess>();
        services.AddSingleton<DashboardRequests>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpLoggingInterceptor, DashboardHttpLoggingInterceptor>());
        services.AddSingleton<OperatorAccess>();
        services.AddAntiforgery();
        services.AddSingleton<FaultInjector>();
        services.AddSingleton<SimulatorHost>();
        services.AddHostedService(sp => sp.GetRequiredService<SimulatorHost>());
        services.AddSingleton<PipelineInstrumentation>();
        // First among startup filters, so the middleware every other filter adds is timed too.
        services.Insert(0, ServiceDescriptor.Transient<IStartupFilter, FlowScopeStartupFilter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<MvcOptions>, MvcInstrumentationSetup>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoggerProvider, SpanLoggerProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<LoggerFilterOptions>, SpanLoggerFilterSetup>());
        services.AddSingleton<FlowScopeRuntime>();
        services.AddHostedService(sp => sp.GetRequiredService<FlowScopeRuntime>());
        services.AddFlowScopeAsyncInstrumentation();
        services.AddHostedService<DatabaseCapture>();

        return new FlowScopeBuilder(services);
    }

    private static FlowScopeOptions Options(IServiceProvider sp) => sp.GetRequiredService<IOptions<FlowScopeOptions>>().Value;

    private sealed class FlowScopeBuilder(IServiceCollection services) : IFlowScopeBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
