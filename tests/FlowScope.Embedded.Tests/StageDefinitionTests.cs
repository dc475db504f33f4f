using System.Runtime.CompilerServices;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;

namespace FlowScope.Embedded.Tests;

/// <summary>
/// A recorded stage holds its kind as a number (<see cref="StageDefinition.Id"/>), so the stage array every request
/// allocates, and the store keeps, holds no object reference for the garbage collector to scan.
/// </summary>
public sealed class StageDefinitionTests
{
    [Fact]
    public void A_recorded_stage_holds_no_object_reference_and_takes_32_bytes()
    {
        Assert.False(RuntimeHelpers.IsReferenceOrContainsReferences<HttpRequestInfo.Stage>());
        Assert.Equal(32, Unsafe.SizeOf<HttpRequestInfo.Stage>());
    }

    [Fact]
    public void Every_definition_is_found_again_by_its_number()
    {
        var a = new StageDefinition("AuditMiddleware", SpanComponents.Middleware, "App.AuditMiddleware");
        var b = new StageDefinition("AuditMiddleware", SpanComponents.Middleware, "App.AuditMiddleware");

        Assert.NotEqual(a.Id, b.Id);
        Assert.Same(a, StageDefinition.FromId(a.Id));
        Assert.Same(b, StageDefinition.FromId(b.Id));
    }

    [Fact]
    public void A_named_variant_is_made_once_per_name_and_an_endpoint_s_carries_its_route()
    {
        var endpoint = new StageDefinition("EndpointMiddleware", SpanComponents.Endpoint, "Microsoft.AspNetCore.Routing.EndpointMiddleware", [new("team", "orders")]);

        var orders = endpoint.Named("/orders/{id}");
        Assert.Same(orders, endpoint.Named("/orders/{id}"));
        Assert.NotSame(orders, endpoint.Named("/carts/{id}"));
        Assert.Equal("/orders/{id}", orders.Name);
        Assert.Equal(SpanComponents.Endpoint, orders.Component);
        Assert.Equal(endpoint.TypeName, orders.TypeName);
        Assert.Equal([new("http.route", "/orders/{id}"), new("team", "orders")], orders.Attributes!);

        var method = new StageDefinition("action method", SpanComponents.Controller, null).Named("Get()");
        Assert.Equal("Get()", method.Name);
        Assert.Null(method.Attributes);
    }

    [Fact]
    public void Named_variants_are_bounded_and_past_the_bound_the_definition_itself_is_used()
    {
        var endpoint = new StageDefinition("EndpointMiddleware", SpanComponents.Endpoint, null);
        for (var i = 0; i < StageDefinition.MaxNamed; i++)
        {
            Assert.NotSame(endpoint, endpoint.Named("/route/" + i));
        }

        Assert.Same(endpoint, endpoint.Named("/one/more"));
        Assert.NotSame(endpoint, endpoint.Named("/route/7")); // the ones made before stay
    }
}
