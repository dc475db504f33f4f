using System.Diagnostics;
using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // ActivityListeners are process-wide

namespace FlowScope.Embedded.Mcp.Tests;

/// <summary>
/// A small app on Kestrel (loopback, port 0) with FlowScope and its MCP endpoint, as a user would add them, and an MCP
/// client from the SDK that talks to it over streamable HTTP.
/// </summary>
internal sealed class McpTestApp : IAsyncDisposable
{
    public static readonly ActivitySource Source = new("McpTests");

    /// <summary>A request carrying this header reaches FlowScope as if it came from 203.0.113.7 (a remote caller).</summary>
    public const string RemoteHeader = "X-Test-Remote";

    public const string PolicyName = "FlowScopeAdmins";

    private McpTestApp(WebApplication app, Uri baseAddress)
    {
        App = app;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress };
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public Uri McpEndpoint => new(BaseAddress, "/_flowscope/mcp");

    public ITraceStore Store => App.Services.GetRequiredService<ITraceStore>();

    public static async Task<McpTestApp> StartAsync(
        bool withPolicy = false,
        Action<WebApplicationBuilder>? configure = null,
        Action<WebApplication>? map = null,
        Action<WebApplication>? beforeFlowScope = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddFlowScope(o =>
        {
            o.Sources.Add("McpTests");
            if (withPolicy)
            {
                o.DashboardAuthorizationPolicy = PolicyName;
            }
        });
        if (withPolicy)
        {
            builder.Services.AddAuthentication(HeaderAuthentication.SchemeName)
                .AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.SchemeName, null);
            builder.Services.AddAuthorization(o => o.AddPolicy(PolicyName, p => p.RequireAuthenticatedUser()));
        }

        configure?.Invoke(builder);
        var app = builder.Build();
        beforeFlowScope?.Invoke(app);
        app.UseFlowScope();

        // Forges the caller's address for the access tests (a proxy-less remote caller); the access decision is made
        // when an endpoint runs, after this.
        app.Use((context, next) =>
        {
            if (context.Request.Headers.ContainsKey(RemoteHeader))
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.7");
            }

            return next(context);
        });
        MapEndpoints(app);
        map?.Invoke(app);
        app.MapFlowScopeMcp();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new McpTestApp(app, new Uri(address));
    }

    private static void MapEndpoints(WebApplication app)
    {
        app.MapGet("/orders/{id:int}", (int id) =>
        {
            using var span = Source.StartActivity("load order");
            span?.SetTag("order.id", id);
            return $"order {id}";
        });
        app.MapGet("/boom", string () => throw new InvalidOperationException("The order could not be found."));
        app.MapGet("/slow", async () =>
        {
            using (Source.StartActivity("price the basket"))
            {
                await Task.Delay(250); // the slow part of this route, on purpose
            }

            return "slow";
        });

        // An N+1 as the database capture marks it: the counts on the request (the local root), the repeated statement on
        // the span that issued the commands.
        app.MapGet("/orders/{id:int}/lines", (int id, HttpContext context) =>
        {
            context.Features.Get<IHttpActivityFeature>()?.Activity
                .SetTag("flowscope.db.count", 7)
                .SetTag("flowscope.db.n_plus_one", 6)
                .SetTag("flowscope.db.duplicates", 0);
            using var span = Source.StartActivity("load order lines");
            span?.SetTag("flowscope.db.repeated_statement", "SELECT l.Id, l.Sku FROM Lines AS l WHERE l.OrderId = ?");
            span?.SetTag("flowscope.db.repeated_count", 6);
            span?.SetTag("flowscope.db.repeated_ms", 4.5);
            return $"lines of {id}";
        });
        app.MapGet("/search", (string? q) => $"results for {q}");

        // Alike leaves in a row: get_trace folds them into one line.
        app.MapGet("/batch", () =>
        {
            using var parent = Source.StartActivity("check stock");
            for (var i = 0; i < 6; i++)
            {
                using var item = Source.StartActivity("SELECT Stock");
                item?.SetTag("db.query.text", "SELECT s.Count\nFROM Stock AS s\nWHERE s.Sku = @sku");
            }

            return "checked";
        });
    }

    /// <summary>An MCP client from the SDK, on streamable HTTP, to the app's FlowScope MCP endpoint.</summary>
    public Task<McpClient> ConnectAsync(Action<HttpRequestMessage>? alter = null, IDictionary<string, string>? headers = null)
    {
        var http = new HttpClient(new Alter(alter));
        var transport = new HttpClientTransport(
            new HttpClientTransportOptions
            {
                Endpoint = McpEndpoint,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = headers,
                Name = "FlowScope MCP tests",
            },
            http,
            loggerFactory: null,
            ownsHttpClient: true);
        return McpClient.CreateAsync(transport);
    }

    public async Task GetAsync(string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await Http.SendAsync(request);
    }

    public async Task WaitForTraceAsync(Func<TraceSummary, bool> predicate, string because)
    {
        IReadOnlyList<TraceSummary> held = [];
        await Eventually.TrueAsync(
            async () => (held = (await Store.QueryAsync(new TraceQuery { Limit = TraceQuery.MaxLimit })).Traces).Any(predicate),
            because: () => $"{because}; traces held: {string.Join(", ", held.Select(t => t.Name))}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    private sealed class Alter(Action<HttpRequestMessage>? alter) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            alter?.Invoke(request);
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Signs in callers that send <c>X-Test-User</c>; everyone else is anonymous.</summary>
    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "TestHeader";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue("X-Test-User", out var user))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user.ToString())], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}

internal static class McpResults
{
    /// <summary>The text of a tool's answer.</summary>
    public static string Text(this CallToolResult result) =>
        string.Concat(result.Content.OfType<TextContentBlock>().Select(b => b.Text));
}
