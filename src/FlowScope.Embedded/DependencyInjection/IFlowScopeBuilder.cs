using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded;

/// <summary>Returned by <c>AddFlowScope</c> so add-on packages (such as Redis persistence) can chain their setup.</summary>
public interface IFlowScopeBuilder
{
    /// <summary>Gets the application's service collection.</summary>
    IServiceCollection Services { get; }
}
