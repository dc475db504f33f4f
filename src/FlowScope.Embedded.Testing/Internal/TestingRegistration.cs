using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.Testing.Internal;

/// <summary>Marks the store registration <c>AddFlowScopeTesting()</c> made, so a second call leaves it alone.</summary>
internal sealed class TestingRegistration(ServiceDescriptor descriptor)
{
    public ServiceDescriptor Descriptor { get; } = descriptor;
}
