using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Dashboard;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Http;

namespace FlowScope.Embedded.Instrumentation.Pipeline;

/// <summary>
/// Names a middleware from the delegates <c>IApplicationBuilder.Use</c> receives, once, when the pipeline is
/// built. <c>UseMiddleware&lt;T&gt;</c> yields T; framework middleware yield their type names; inline
/// <c>app.Use(...)</c> lambdas get "inline middleware #n (DeclaringType)", never a compiler-generated name.
/// </summary>
internal sealed class MiddlewareNames
{
    private int _inlineCount;

    /// <summary>Returns the stage for a built middleware, or <see langword="null"/> for one FlowScope must not time.</summary>
    public StageDefinition? Define(Func<RequestDelegate, RequestDelegate> component, RequestDelegate built)
    {
        var type = FindMiddlewareType(component, built);
        if (type is not null)
        {
            if (type == typeof(RequestCaptureMiddleware) || type == typeof(DashboardBranchMiddleware))
            {
                return null;
            }

            var name = FriendlyName(type);
            var kind = type.FullName == "Microsoft.AspNetCore.Routing.EndpointMiddleware" ? SpanComponents.Endpoint : SpanComponents.Middleware;
            return new StageDefinition(name, kind, type.FullName);
        }

        var user = FindUserDelegate(component) ?? FindUserDelegate(built);
        if (user is not null && IsFrameworkHost(user.Method.DeclaringType))
        {
            // The wire between a WebApplication's own pipeline and the host's: not a middleware of the app.
            return null;
        }

        var owner = OuterType(user?.Method.DeclaringType ?? component.Method.DeclaringType);
        if (IsFrameworkHost(owner))
        {
            return null;
        }

        var number = Interlocked.Increment(ref _inlineCount);
        var label = owner is null ? $"inline middleware #{number}" : $"inline middleware #{number} ({FriendlyName(owner)})";
        return new StageDefinition(label, SpanComponents.Middleware, owner?.FullName);
    }

    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Naming is best effort: if trimming removed the fields, the middleware gets a generic name.")]
    private static Type? FindMiddlewareType(Func<RequestDelegate, RequestDelegate> component, RequestDelegate built)
    {
        // UseMiddleware's binder keeps the middleware type in a field.
        if ((TypeFromBinder(built.Target) ?? TypeFromBinder(component.Target)) is { } bound)
        {
            return bound;
        }

        // A middleware whose Invoke matches RequestDelegate is bound directly: the delegate's target is the instance.
        var target = built.Target;
        if (target is not null && !IsCompilerGenerated(target.GetType()) && IsMiddlewareLike(target.GetType()))
        {
            return target.GetType();
        }

        // Invoke with extra parameters is bound through a closure holding the instance.
        if (target is not null && IsCompilerGenerated(target.GetType()))
        {
            foreach (var field in target.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            {
                if (field.GetValue(target) is { } value && value is not Delegate && IsMiddlewareLike(value.GetType()) && !IsCompilerGenerated(value.GetType()))
                {
                    return value.GetType();
                }
            }
        }

        return null;
    }

    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Naming is best effort: if trimming removed the fields, the middleware gets a generic name.")]
    private static Type? TypeFromBinder(object? binder)
    {
        if (binder is null || !binder.GetType().Name.EndsWith("MiddlewareBinder", StringComparison.Ordinal))
        {
            return null;
        }

        foreach (var field in binder.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            if (field.FieldType == typeof(Type) && field.GetValue(binder) is Type middlewareType)
            {
                return middlewareType;
            }
        }

        return null;
    }

    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Naming is best effort: if trimming removed the fields, the middleware gets a generic name.")]
    private static Delegate? FindUserDelegate(Delegate candidate)
    {
        var target = candidate.Target;
        if (target is null || !IsCompilerGenerated(target.GetType()))
        {
            return null;
        }

        foreach (var field in target.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            if (field.GetValue(target) is Delegate inner && inner.GetType() != typeof(RequestDelegate) && IsUserCode(inner.Method.DeclaringType))
            {
                return inner;
            }
        }

        return IsUserCode(candidate.Method.DeclaringType) ? candidate : null;
    }

    private static bool IsMiddlewareLike(Type type) =>
        type.Name.Contains("Middleware", StringComparison.Ordinal) || typeof(IMiddleware).IsAssignableFrom(type);

    private static bool IsCompilerGenerated(Type type) =>
        type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false) || type.Name.Contains('<', StringComparison.Ordinal);

    private static bool IsUserCode(Type? type) =>
        type is not null
        && type.Assembly != typeof(MiddlewareNames).Assembly
        && (type.Namespace is not { } ns
            || !(ns.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || ns.StartsWith("Microsoft.Extensions", StringComparison.Ordinal)));

    private static bool IsFrameworkHost(Type? type) =>
        type is not null && (type.FullName?.StartsWith("Microsoft.AspNetCore.Builder.WebApplication", StringComparison.Ordinal) == true
            || type.FullName?.StartsWith("Microsoft.AspNetCore.Hosting", StringComparison.Ordinal) == true);

    private static Type? OuterType(Type? type)
    {
        while (type is not null && IsCompilerGenerated(type) && type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type;
    }

    internal static string FriendlyName(Type type)
    {
        var name = type.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick > 0)
        {
            name = name[..tick];
        }

        foreach (var suffix in new[] { "Impl", "Internal" })
        {
            if (name.Length > suffix.Length + 10 && name.EndsWith(suffix, StringComparison.Ordinal))
            {
                name = name[..^suffix.Length];
            }
        }

        return name;
    }
}
