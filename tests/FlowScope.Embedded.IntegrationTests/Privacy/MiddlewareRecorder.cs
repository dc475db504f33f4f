using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FlowScope.Embedded.IntegrationTests.Privacy;

/// <summary>
/// Records the middleware a host's pipeline is built from, as the host builds it (a startup filter registered after
/// FlowScope's, so it sees what the app and the host add, and FlowScope's own components by their assembly).
/// </summary>
internal sealed class MiddlewareRecorder : IStartupFilter
{
    private readonly List<string> _components = [];

    public IReadOnlyList<string> Components
    {
        get
        {
            lock (_components)
            {
                return [.. _components];
            }
        }
    }

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app => next(new Recording(app, this));

    /// <summary>Names a middleware component: its middleware type for <c>UseMiddleware</c>, else the method that makes it.</summary>
    public static string Describe(Func<RequestDelegate, RequestDelegate> component)
    {
        if (component.Target is { } target)
        {
            foreach (var field in target.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                if (field.FieldType == typeof(Type) && field.GetValue(target) is Type middleware)
                {
                    return middleware.FullName!;
                }
            }
        }

        return $"{component.Method.DeclaringType?.FullName}.{component.Method.Name}";
    }

    /// <summary>Whether a component is FlowScope's own (made by FlowScope's assembly).</summary>
    public static bool IsFlowScope(string description) =>
        (description.StartsWith("FlowScope.Embedded.", StringComparison.Ordinal) && !description.StartsWith("FlowScope.Embedded.IntegrationTests.", StringComparison.Ordinal))
        || description.StartsWith("Microsoft.AspNetCore.Builder.FlowScope", StringComparison.Ordinal);

    /// <summary>The middleware a <see cref="WebApplication"/> itself holds (what the app's Program registered).</summary>
    public static IReadOnlyList<string> ComponentsOf(WebApplication app)
    {
        var builder = typeof(WebApplication).GetProperty("ApplicationBuilder", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(app)!;
        var components = (List<Func<RequestDelegate, RequestDelegate>>)builder.GetType().GetField("_components", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(builder)!;
        return [.. components.Select(Describe)];
    }

    private sealed class Recording(IApplicationBuilder inner, MiddlewareRecorder owner) : IApplicationBuilder
    {
        public IServiceProvider ApplicationServices
        {
            get => inner.ApplicationServices;
            set => inner.ApplicationServices = value;
        }

        public IFeatureCollection ServerFeatures => inner.ServerFeatures;

        public IDictionary<string, object?> Properties => inner.Properties;

        public IApplicationBuilder Use(Func<RequestDelegate, RequestDelegate> middleware)
        {
            lock (owner._components)
            {
                owner._components.Add(Describe(middleware));
            }

            inner.Use(middleware);
            return this;
        }

        public IApplicationBuilder New() => inner.New();

        public RequestDelegate Build() => inner.Build();
    }
}
