using System.Runtime.CompilerServices;
using FlowScope.Embedded.Instrumentation.Pipeline;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// The dashboard as <c>UseFlowScope</c> serves it: a pipeline of its own (routing, authentication and authorization
/// when <see cref="FlowScopeOptions.DashboardAuthorizationPolicy"/> is set, the dashboard's endpoints), built from
/// <c>app.New()</c> and entered only by dashboard requests (<see cref="DashboardBranchMiddleware"/>). The app's
/// endpoints and middleware stay exactly what the app made them: a <c>WebApplication</c> gains no endpoint, so no
/// routing middleware is added in front of an app that has none (MVC with <c>UseMvc</c>, for example).
/// </summary>
internal static class DashboardBranch
{
    public static RequestDelegate Build(IApplicationBuilder app, string? policy)
    {
        // Not timed as the app's stages, nor offered as fault targets.
        var branch = app is InstrumentingApplicationBuilder instrumenting ? instrumenting.NewUninstrumented() : app.New();
        branch.UseRouting();
        if (policy is not null)
        {
            if (app.ApplicationServices.GetService<IServiceProviderIsService>()?.IsService(typeof(IAuthenticationSchemeProvider)) is true)
            {
                branch.UseAuthentication();
            }

            branch.UseAuthorization();
        }

        EndpointDataSource[] own = [];
        branch.UseEndpoints(endpoints =>
        {
            var dashboard = DashboardEndpoints.Map(endpoints, "/");
            if (policy is not null)
            {
                dashboard.RequireAuthorization(policy);
            }

            own = [.. endpoints.DataSources];
        });
        LeaveOutOfAppEndpoints(app.ApplicationServices, own);
        return branch.Build();
    }

    /// <summary>
    /// <c>UseEndpoints</c> also lists a branch's endpoints among the app's (the <see cref="EndpointDataSource"/>
    /// service, which link generation, API descriptions and route listings read). The branch matches against its own
    /// sources, so they are taken out again. Best effort: if a framework version stores them differently, they stay.
    /// </summary>
    private static void LeaveOutOfAppEndpoints(IServiceProvider services, EndpointDataSource[] own)
    {
        try
        {
            var all = EndpointDataSources(services.GetRequiredService<IOptions<RouteOptions>>().Value);
            foreach (var source in own)
            {
                all.Remove(source);
            }
        }
        catch (Exception ex) when (ex is MissingMemberException or InvalidCastException or NotSupportedException)
        {
            // The dashboard's endpoints stay listed: harmless, they are excluded from API descriptions.
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_EndpointDataSources")]
    private static extern ICollection<EndpointDataSource> EndpointDataSources(RouteOptions options);
}
