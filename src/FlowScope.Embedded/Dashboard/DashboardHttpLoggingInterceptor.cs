using Microsoft.AspNetCore.HttpLogging;

namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// Turns the app's HTTP logging (<c>UseHttpLogging</c>) off for dashboard requests, whatever the middleware order:
/// the dashboard's JSON (whole traces) and its requests stay out of the app's logs. Other requests are untouched.
/// </summary>
internal sealed class DashboardHttpLoggingInterceptor(DashboardRequests requests) : IHttpLoggingInterceptor
{
    public ValueTask OnRequestAsync(HttpLoggingInterceptorContext logContext)
    {
        var context = logContext.HttpContext;
        if (DashboardRequests.IsOwn(context) || requests.IsDashboardPath(context.Request))
        {
            logContext.LoggingFields = HttpLoggingFields.None;
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask OnResponseAsync(HttpLoggingInterceptorContext logContext)
    {
        if (DashboardRequests.IsOwn(logContext.HttpContext))
        {
            logContext.LoggingFields = HttpLoggingFields.None;
        }

        return ValueTask.CompletedTask;
    }
}
