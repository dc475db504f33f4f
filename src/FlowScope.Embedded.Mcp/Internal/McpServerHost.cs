using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;

namespace FlowScope.Embedded.Mcp.Internal;

/// <summary>
/// FlowScope's MCP server, in a service provider of its own: the app's container is built and may hold an MCP server
/// of the app's (whose tool list FlowScope must not join, nor serve through its own endpoint). The server is
/// stateless (every POST stands alone), so none of the SDK's session machinery or background services is needed.
/// Tool calls read the app's FlowScope services (<see cref="FlowScopeTools"/>).
/// </summary>
internal sealed class McpServerHost
{
    private readonly IServiceProvider _services;

    private McpServerHost(IServiceProvider services) => _services = services;

    public static McpServerHost Create(IServiceProvider app)
    {
        var tools = new FlowScopeTools(app);
        var collection = new ServiceCollection();
        collection.AddSingleton(app.GetRequiredService<ILoggerFactory>());
        collection.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        collection.AddSingleton(app.GetRequiredService<IHostApplicationLifetime>());
        collection
            .AddMcpServer(o =>
            {
                o.ServerInfo = new Implementation { Name = "flowscope", Version = typeof(McpServerHost).Assembly.GetName().Version?.ToString(3) ?? "0.0.0" };
                o.ServerInstructions = FlowScopeTools.Instructions;
            })
            .WithHttpTransport(o => o.SessionMode = HttpServerSessionMode.Stateless)
            .WithListToolsHandler((_, _) => ValueTask.FromResult(new ListToolsResult { Tools = tools.Definitions }))
            .WithCallToolHandler((request, cancellationToken) => tools.CallAsync(request.Params, cancellationToken));
        var provider = collection.BuildServiceProvider();
        app.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(() => _ = provider.DisposeAsync().AsTask());
        return new McpServerHost(provider);
    }

    /// <summary>Maps the SDK's streamable HTTP endpoints at <paramref name="group"/>'s prefix among the app's endpoints.</summary>
    public IEndpointConventionBuilder Map(RouteGroupBuilder group) => new OwnServices(group, _services).MapMcp();

    /// <summary>The app's endpoint route builder, with FlowScope's MCP services in place of the app's.</summary>
    private sealed class OwnServices(IEndpointRouteBuilder inner, IServiceProvider services) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider => services;

        public ICollection<EndpointDataSource> DataSources => inner.DataSources;

        public IApplicationBuilder CreateApplicationBuilder() => inner.CreateApplicationBuilder();
    }
}
