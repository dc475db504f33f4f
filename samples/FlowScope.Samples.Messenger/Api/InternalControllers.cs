using System.Reflection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Controllers;

namespace FlowScope.Samples.Messenger.Api;

/// <summary>Lets MVC find this app's controllers although they are internal (an app exports no types).</summary>
internal sealed class InternalControllerFeatureProvider : ControllerFeatureProvider
{
    protected override bool IsController(TypeInfo typeInfo) =>
        typeInfo.Assembly == typeof(InternalControllerFeatureProvider).Assembly
            ? typeInfo is { IsClass: true, IsAbstract: false, ContainsGenericParameters: false }
              && typeof(ControllerBase).IsAssignableFrom(typeInfo)
              && typeInfo.Name.EndsWith("Controller", StringComparison.Ordinal)
            : base.IsController(typeInfo);
}

/// <summary>The names of the rate-limiting policies.</summary>
internal static class RateLimits
{
    public const string Api = "api";
    public const string Auth = "auth";
}
