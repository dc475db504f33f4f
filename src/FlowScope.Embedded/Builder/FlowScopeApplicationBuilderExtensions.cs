using FlowScope.Embedded;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Instrumentation.Pipeline;
using FlowScope.Embedded.Internal;
using FlowScope.Embedded.Dashboard;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds FlowScope to an application's request pipeline.</summary>
public static class FlowScopeApplicationBuilderExtensions
{
    /// <summary>
    /// Instruments the request pipeline and serves the dashboard at <see cref="FlowScopeOptions.DashboardPath"/>
    /// (default <c>/_flowscope</c>). Call it early, before the middleware you want to see, and after
    /// <c>UseForwardedHeaders</c>/<c>UsePathBase</c> if you use them. The dashboard is a pipeline of its own that only
    /// dashboard requests enter: the app's middleware and endpoints stay as the app built them. Does nothing when
    /// FlowScope is disabled.
    /// </summary>
    /// <param name="app">The application builder.</param>
    /// <returns>The application builder.</returns>
    /// <exception cref="InvalidOperationException"><c>AddFlowScope()</c> was not called.</exception>
    public static IApplicationBuilder UseFlowScope(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ApplicationServices.GetService<FlowScopeMarker>() is null)
        {
            throw new InvalidOperationException(FlowScopeMarker.MissingServicesMessage);
        }

        var options = app.ApplicationServices.GetRequiredService<IOptions<FlowScopeOptions>>().Value;
        if (!options.Enabled)
        {
            return app;
        }

        var pipeline = app.ApplicationServices.GetRequiredService<PipelineInstrumentation>();
        if (app is WebApplication application && pipeline.Enabled)
        {
            pipeline.Register(application);
        }

        if (options.OperatorAuthorizationPolicy is { } operatorPolicy)
        {
            EnsureAuthorization(app.ApplicationServices, operatorPolicy, "OperatorAuthorizationPolicy");
        }

        if (options.DashboardAuthorizationPolicy is { } policy)
        {
            EnsureAuthorization(app.ApplicationServices, policy, "DashboardAuthorizationPolicy");
        }

        var dashboard = DashboardBranch.Build(app, options.DashboardAuthorizationPolicy);
        var path = new PathString(options.DashboardPath);
        var requests = app.ApplicationServices.GetRequiredService<DashboardRequests>();
        app.Use(next => new DashboardBranchMiddleware(next, dashboard, path, requests).InvokeAsync);

        var settings = pipeline.Settings;
        app.Use(next => new RequestCaptureMiddleware(next, settings).InvokeAsync);
        return app;
    }

    private static void EnsureAuthorization(IServiceProvider services, string policy, string option)
    {
        if (services.GetService<Microsoft.AspNetCore.Authorization.IAuthorizationPolicyProvider>() is not { } provider)
        {
            throw new InvalidOperationException(
                $"FlowScope:{option} is '{policy}' but authorization is not set up. Call builder.Services.AddAuthorization(o => o.AddPolicy(\"{policy}\", ...)) and add an authentication scheme.");
        }

        // Policies are plain registrations in almost every app; a custom provider that builds them on demand is
        // asked too. A missing policy would otherwise fail every dashboard (or operator) request with a 500.
        if (provider.GetPolicyAsync(policy).GetAwaiter().GetResult() is null)
        {
            throw new InvalidOperationException(
                $"FlowScope:{option} is '{policy}' but no authorization policy has that name. Register it with builder.Services.AddAuthorization(o => o.AddPolicy(\"{policy}\", ...)), or correct the name.");
        }
    }
}
