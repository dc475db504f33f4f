using System.Text;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Instrumentation.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Instrumentation.Mvc;

/// <summary>
/// For MVC without endpoint routing (<c>EnableEndpointRouting = false</c> and <c>UseMvc</c>), where a request has no
/// endpoint to name it: gives the request the route template MVC matched (an attribute route's template; a
/// conventional route's template with the action's controller and action filled in, "Tags/List/{id?}"), and records
/// the controller stage ("TagsController.List") that the endpoint's stage begins under endpoint routing, so both
/// kinds of app show the same stages and the flow map has a node per controller and action. Added only to apps
/// that turned endpoint routing off.
/// </summary>
internal sealed class MvcRouterStageFilter(PipelineInstrumentation pipeline) : IAuthorizationFilter, IResourceFilter, IOrderedFilter
{
    private readonly RequestCaptureSettings _settings = pipeline.Settings;

    public int Order => int.MinValue;

    // Authorization filters run first, before any of them can answer the request (a 401 is still named by its route).
    public void OnAuthorization(AuthorizationFilterContext context)
    {
        if (context.HttpContext.GetEndpoint() is null && HttpRequestInfo.ForRunning(context.HttpContext, _settings) is { } info)
        {
            info.MvcRoute = RouteOf(context.ActionDescriptor, context.RouteData);
        }
    }

    public void OnResourceExecuting(ResourceExecutingContext context)
    {
        if (context.HttpContext.GetEndpoint() is null && HttpRequestInfo.ForRunning(context.HttpContext, _settings) is { } info && info.Mvc.Controller < 0)
        {
            var description = MvcStageFilter.Describe(context.ActionDescriptor);
            info.Mvc.Controller = info.BeginStage(description.Controller);
            info.Mvc.Method = description.Method;
            info.Mvc.OwnController = true;
        }
    }

    public void OnResourceExecuted(ResourceExecutedContext context)
    {
        if (HttpRequestInfo.ForRunning(context.HttpContext, _settings) is { Mvc.OwnController: true } info && info.Mvc.Controller >= 0)
        {
            info.EndStage(info.Mvc.Controller, context.Exception is { } ex && !context.ExceptionHandled ? ex : null);
            info.Mvc.Controller = -1;
            info.Mvc.OwnController = false;
        }
    }

    /// <summary>The template of an attribute route, or the conventional route MVC matched with the action filled in.</summary>
    internal static string? RouteOf(ActionDescriptor action, RouteData routeData)
    {
        if (action.AttributeRouteInfo?.Template is { } template)
        {
            return template;
        }

        for (var i = routeData.Routers.Count - 1; i >= 0; i--)
        {
            if (routeData.Routers[i] is RouteBase route)
            {
                return MvcStageFilter.Describe(action).ConventionalRoute(route.ParsedTemplate, static (t, a) => Fill(t, a));
            }
        }

        return null;
    }

    /// <summary>"{controller}/{action=Index}/{id?}" for TagsController.List: "Tags/List/{id?}".</summary>
    private static string Fill(RouteTemplate template, ActionDescriptor action)
    {
        var text = new StringBuilder();
        foreach (var segment in template.Segments)
        {
            text.Append('/');
            foreach (var part in segment.Parts)
            {
                if (part.IsLiteral || part.IsOptionalSeperator)
                {
                    text.Append(part.Text);
                }
                else if (part.Name is { } name && action.RouteValues.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value))
                {
                    text.Append(value);
                }
                else
                {
                    text.Append('{').Append(part.IsCatchAll ? "*" : string.Empty).Append(part.Name).Append(part.IsOptional ? "?" : string.Empty).Append('}');
                }
            }
        }

        return text.Length == 0 ? "/" : text.ToString(1, text.Length - 1);
    }
}

/// <summary>Adds <see cref="MvcRouterStageFilter"/> to apps that run MVC without endpoint routing (after all their own configuration).</summary>
internal sealed class MvcRouterInstrumentationSetup(PipelineInstrumentation pipeline) : IPostConfigureOptions<MvcOptions>
{
    public void PostConfigure(string? name, MvcOptions options)
    {
        if (pipeline.Enabled && !options.EnableEndpointRouting && !options.Filters.Any(f => f is MvcRouterStageFilter))
        {
            options.Filters.Add(new MvcRouterStageFilter(pipeline));
        }
    }
}
