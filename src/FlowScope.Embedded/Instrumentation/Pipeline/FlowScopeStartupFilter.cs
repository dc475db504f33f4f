using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace FlowScope.Embedded.Instrumentation.Pipeline;

/// <summary>
/// Registered first among startup filters so that it wraps everything: the host's own middleware, those of other
/// startup filters and the app's. Runs when the host builds the pipeline, after all app code registered its middleware.
/// </summary>
internal sealed class FlowScopeStartupFilter(PipelineInstrumentation instrumentation) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
    {
        if (!instrumentation.Enabled)
        {
            return next;
        }

        return app =>
        {
            next(new InstrumentingApplicationBuilder(app, instrumentation));
            instrumentation.InstrumentApplications();
        };
    }
}
