using FlowScope.Embedded;
using FlowScope.Embedded.Redis;
using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Redis Streams persistence to FlowScope.</summary>
public static class RedisStreamsFlowScopeBuilderExtensions
{
    /// <summary>The name of the health check this package registers: <c>flowscope-redis</c>.</summary>
    public const string HealthCheckName = "flowscope-redis";

    /// <summary>
    /// Persists FlowScope's spans to a Redis stream shared by every instance of the app, and shows the shared
    /// history in each instance's dashboard. Options are bound from the <c>FlowScope:Redis</c> configuration
    /// section, then <paramref name="configure"/> runs; they are validated when the host starts. Without a
    /// connection string FlowScope keeps its in-memory store, so an app can always call this and switch Redis on
    /// by configuration. Also registers the <see cref="HealthCheckName"/> health check and the
    /// <c>FlowScope.Redis</c> meter.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddFlowScope</c>.</param>
    /// <param name="configure">Optional code configuration, applied after configuration binding.</param>
    /// <returns>The same builder.</returns>
    public static IFlowScopeBuilder AddRedisStreams(this IFlowScopeBuilder builder, Action<RedisStreamsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        var optionsBuilder = services.AddOptions<RedisStreamsOptions>().BindConfiguration(RedisStreamsOptions.SectionName);
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        optionsBuilder.ValidateOnStart();
        if (services.Any(d => d.ServiceType == typeof(RedisStreamsMarker)))
        {
            return builder;
        }

        services.AddSingleton<RedisStreamsMarker>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisStreamsOptions>, RedisStreamsOptionsValidator>());
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<RedisStreamsOptions>>().Value);
        services.AddSingleton<RedisConnection>();
        services.AddSingleton<RedisStreamsRuntime>();
        services.AddSingleton<RedisStreamsMetrics>();

        // Replaces the core's in-memory store whatever was registered before.
        services.RemoveAll<ITraceStore>();
        services.AddSingleton(sp =>
        {
            _ = sp.GetRequiredService<RedisStreamsMetrics>();
            return sp.GetRequiredService<RedisStreamsRuntime>().Store;
        });

        // Ahead of every other hosted service (FlowScope's pump included): started first, stopped last, so the
        // pump's final drain at shutdown still reaches the writer.
        var hosted = ServiceDescriptor.Singleton<IHostedService>(sp => sp.GetRequiredService<RedisStreamsRuntime>());
        var first = 0;
        while (first < services.Count && services[first].ServiceType != typeof(IHostedService))
        {
            first++;
        }

        services.Insert(first, hosted);
        services.AddHealthChecks().AddCheck<RedisStreamsHealthCheck>(HealthCheckName, tags: ["flowscope"]);
        return builder;
    }
}
