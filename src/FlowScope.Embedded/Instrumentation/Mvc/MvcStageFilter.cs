using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Instrumentation.Pipeline;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Instrumentation.Mvc;

/// <summary>
/// A global MVC filter, outermost of each kind, that records an action's steps as stages of the request: model
/// binding, the action method and the result execution, with exceptions. The controller stage that holds them
/// (controller, action, route template, filters) is begun by the endpoint's own stage, with the same clock reading
/// (<see cref="Pipeline.PipelineInstrumentation"/>): MVC then runs no resource filter of FlowScope's, which saves
/// the two filter contexts it allocates for every request. ASP.NET Core's own activity records neither controller nor
/// action.
/// <para>
/// It implements MVC's synchronous filter interfaces: MVC runs those without an async state machine per filter, and
/// still hands each <c>…Executed</c> call the exception the inner steps left (as it would to an async filter after
/// <c>next()</c>). The open stages' indexes wait in the request's <see cref="HttpRequestInfo"/> in between.
/// </para>
/// </summary>
internal sealed class MvcStageFilter(PipelineInstrumentation pipeline) : IActionFilter, IResultFilter, IOrderedFilter
{
    private static readonly StageDefinition s_controller = new("controller", SpanComponents.Controller, null);
    private static readonly StageDefinition s_binding = new("model binding", SpanComponents.Controller, null);
    private static readonly StageDefinition s_action = new("action method", SpanComponents.Controller, null);
    private static readonly StageDefinition s_result = new("result execution", SpanComponents.Controller, null);

    private readonly RequestCaptureSettings _settings = pipeline.Settings;

    public int Order => int.MinValue;

    public void OnActionExecuting(ActionExecutingContext context)
    {
        if (HttpRequestInfo.ForRunning(context.HttpContext, _settings) is not { } info)
        {
            return;
        }

        // Model binding ran from the start of the controller stage (MVC creates the controller and binds its arguments
        // before the action filters run) until now, when the action method starts: one clock read for both.
        var now = Stopwatch.GetTimestamp();
        if (info.Mvc.Controller is var controller and >= 0)
        {
            info.AddCompletedStage(s_binding, info.GetStage(controller).Start, now);
        }

        // The endpoint's stage looked the action up already (one look-up per endpoint, not per request).
        info.Mvc.Action = info.BeginStage(info.Mvc.Method ?? Describe(context.ActionDescriptor).Method ?? s_action, now);
    }

    public void OnActionExecuted(ActionExecutedContext context)
    {
        if (HttpRequestInfo.ForRunning(context.HttpContext, _settings) is { } info && Take(ref info.Mvc.Action) is var index and >= 0)
        {
            info.EndStage(index, Unhandled(context.Exception, context.ExceptionHandled));
        }
    }

    public void OnResultExecuting(ResultExecutingContext context)
    {
        if (HttpRequestInfo.ForRunning(context.HttpContext, _settings) is { } info)
        {
            info.Mvc.Result = info.BeginStage(s_results.GetOrAdd(context.Result.GetType(), static t => s_result.Named("result " + t.Name)));
        }
    }

    public void OnResultExecuted(ResultExecutedContext context)
    {
        if (HttpRequestInfo.ForRunning(context.HttpContext, _settings) is { } info && Take(ref info.Mvc.Result) is var index and >= 0)
        {
            info.EndStage(index, Unhandled(context.Exception, context.ExceptionHandled));
        }
    }

    /// <summary>The index of the open stage of one kind, which is then closed (-1 when none is open).</summary>
    private static int Take(ref int slot)
    {
        var index = slot;
        slot = -1;
        return index;
    }

    /// <summary>The exception MVC left unhandled after the rest of its pipeline ran inside a stage.</summary>
    private static Exception? Unhandled(Exception? exception, bool handled) => exception is not null && !handled ? exception : null;

    // Names and attributes of an action never change: built once per action descriptor, once per result type.
    private static readonly ConditionalWeakTable<Microsoft.AspNetCore.Mvc.Abstractions.ActionDescriptor, Description> s_descriptions = new();
    private static readonly ConcurrentDictionary<Type, StageDefinition> s_results = new();

    /// <summary>
    /// The name of an action's controller stage ("OrdersController.Get"), as the trace view shows it and as fault
    /// injection and its target list name the action; built once per action.
    /// </summary>
    internal static string ControllerStageName(Microsoft.AspNetCore.Mvc.Abstractions.ActionDescriptor descriptor) => Describe(descriptor).Controller.Name;

    /// <summary>The controller stage of an action and its method's stage name, built once per action descriptor.</summary>
    internal static Description Describe(Microsoft.AspNetCore.Mvc.Abstractions.ActionDescriptor descriptor) =>
        s_descriptions.GetValue(descriptor, static d => new Description(d));

    internal sealed class Description(Microsoft.AspNetCore.Mvc.Abstractions.ActionDescriptor descriptor)
    {
        /// <summary>The controller stage of this action: its name ("OrdersController.Get") and attributes.</summary>
        public StageDefinition Controller { get; } = new(
            descriptor is ControllerActionDescriptor action ? $"{action.ControllerTypeInfo.Name}.{action.MethodInfo.Name}" : descriptor.DisplayName ?? "action",
            s_controller.Component,
            s_controller.TypeName,
            Attributes(descriptor));

        /// <summary>The action method's stage ("Get()"), for controller actions.</summary>
        public StageDefinition? Method { get; } = descriptor is ControllerActionDescriptor action ? s_action.Named(action.MethodInfo.Name + "()") : null;

        // The conventional route this action was last reached by, with the action filled in: an action is almost
        // always reached by one route, so one entry is kept (replaced whole, read without a lock).
        private Tuple<Microsoft.AspNetCore.Routing.Template.RouteTemplate, string>? _conventional;

        /// <summary>The action's name for <paramref name="template"/> (a conventional route), made once by <paramref name="fill"/>.</summary>
        public string ConventionalRoute(
            Microsoft.AspNetCore.Routing.Template.RouteTemplate template,
            Func<Microsoft.AspNetCore.Routing.Template.RouteTemplate, Microsoft.AspNetCore.Mvc.Abstractions.ActionDescriptor, string> fill)
        {
            var last = Volatile.Read(ref _conventional);
            if (last is not null && ReferenceEquals(last.Item1, template))
            {
                return last.Item2;
            }

            var route = fill(template, descriptor);
            Volatile.Write(ref _conventional, Tuple.Create(template, route));
            return route;
        }
    }

    private static KeyValuePair<string, string>[] Attributes(Microsoft.AspNetCore.Mvc.Abstractions.ActionDescriptor descriptor)
    {
        var attributes = new List<KeyValuePair<string, string>>(6);
        if (descriptor is ControllerActionDescriptor action)
        {
            attributes.Add(new("mvc.controller", action.ControllerName));
            attributes.Add(new("mvc.action", action.ActionName));
            attributes.Add(new("code.function", action.MethodInfo.Name));
            attributes.Add(new("code.namespace", action.ControllerTypeInfo.FullName ?? action.ControllerTypeInfo.Name));
        }

        if (descriptor.AttributeRouteInfo?.Template is { } template)
        {
            attributes.Add(new("http.route", template));
        }

        var filters = descriptor.FilterDescriptors
            .Select(f => f.Filter is TypeFilterAttribute t ? t.ImplementationType : f.Filter.GetType())
            .Where(t => t != typeof(MvcStageFilter) && t != typeof(MvcRouterStageFilter))
            .Select(t => t.Name)
            .Take(12)
            .ToArray();
        if (filters.Length > 0)
        {
            attributes.Add(new("mvc.filters", string.Join(", ", filters)));
        }

        return [.. attributes];
    }
}

/// <summary>Adds <see cref="MvcStageFilter"/> to every MVC app; apps without MVC never resolve it.</summary>
internal sealed class MvcInstrumentationSetup(PipelineInstrumentation pipeline) : IConfigureOptions<MvcOptions>
{
    public void Configure(MvcOptions options)
    {
        if (pipeline.Enabled)
        {
            options.Filters.Add(new MvcStageFilter(pipeline));
        }
    }
}
