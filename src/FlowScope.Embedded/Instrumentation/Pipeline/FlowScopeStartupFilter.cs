using FlowScope.Embedded.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Instrumentation.Pipeline;

/// <summary>
/// Registered first among startup filters so that it wraps everything: the host's own middleware, those of other
/// startup filters and the app's. Runs when the host builds the pipeline, after all app code registered its middleware.
/// Puts <see cref="DashboardShieldMiddleware"/> at the very front, then times every middleware after it.
/// </summary>
internal sealed class FlowScopeStartupFilter(PipelineInstrumentation instrumentation, DashboardRequests dashboard, IOptions<FlowScopeOptions> options) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
    {
        if (!options.Value.Enabled)
        {
            return next;
        }

        return app =>
        {
            app.Use(inner => new DashboardShieldMiddleware(inner, dashboard).InvokeAsync);
            if (!instrumentation.Enabled)
            {
                next(app);
                return;
            }

            next(new InstrumentingApplicationBuilder(app, instrumentation));
            instrumentation.InstrumentApplications();
        };
    }
}
