using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpLogging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.IntegrationTests.Privacy;

/// <summary>
/// A Startup class shaped like a real API's: MVC without endpoint routing (<c>UseMvc</c>), an error-handling
/// middleware, a CORS policy for any origin (as API apps commonly have), token authentication. Configuration decides
/// whether FlowScope is added (<c>Conduit:FlowScope</c>), where CORS sits (<c>Conduit:Cors</c>: <c>before</c>,
/// <c>after</c> FlowScope, <c>named</c>, <c>none</c>) and whether it logs HTTP requests (<c>Conduit:HttpLogging</c>).
/// </summary>
public sealed class ConduitStartup(IConfiguration configuration)
{
    private bool FlowScope => configuration.GetValue("Conduit:FlowScope", true);

    private string Cors => configuration["Conduit:Cors"] ?? "before";

    private bool HttpLogging => configuration.GetValue("Conduit:HttpLogging", false);

    public void ConfigureServices(IServiceCollection services)
    {
        if (FlowScope)
        {
            services.AddFlowScope();
        }

        AddServices(services);
        if (HttpLogging)
        {
            // Headers are logged only when listed; this app lists its credentials (as some do, to debug them).
            services.AddHttpLogging(o =>
            {
                o.LoggingFields = HttpLoggingFields.All;
                o.RequestHeaders.Add("Authorization");
                o.RequestHeaders.Add("X-Api-Key");
            });
        }
    }

    public void Configure(IApplicationBuilder app)
    {
        if (HttpLogging)
        {
            app.UseHttpLogging();
        }

        app.UseMiddleware<ConduitErrorHandlingMiddleware>();
        if (Cors == "before")
        {
            app.UseCors();
        }
        else if (Cors == "named")
        {
            app.UseCors("Open");
        }

        app.UseAuthentication();
        if (FlowScope)
        {
            app.UseFlowScope();
        }

        if (Cors == "after")
        {
            app.UseCors();
        }

#pragma warning disable MVC1005 // EnableEndpointRouting = false is set in ConduitStartup.AddServices, out of the analyzer's sight
        app.UseMvc(routes => routes.MapRoute("default", "{controller}/{action=Index}/{id?}"));
#pragma warning restore MVC1005
    }

    /// <summary>The app's services, FlowScope aside (shared with the WebApplication variant of the app).</summary>
    public static void AddServices(IServiceCollection services)
    {
        services.AddMvc(o => o.EnableEndpointRouting = false).AddApplicationPart(typeof(ConduitStartup).Assembly);
        services.AddCors(o =>
        {
            o.AddDefaultPolicy(p => p.AllowAnyOrigin().AllowAnyHeader().AllowAnyMethod());
            o.AddPolicy("Open", p => p.AllowAnyOrigin().AllowAnyHeader().AllowAnyMethod());
        });
        services.AddAuthentication(ConduitTokenAuthentication.SchemeName).AddScheme<AuthenticationSchemeOptions, ConduitTokenAuthentication>(ConduitTokenAuthentication.SchemeName, null);
        services.AddAuthorization();
    }
}

/// <summary>Turns unhandled exceptions into a JSON 500, as such apps do.</summary>
public sealed class ConduitErrorHandlingMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (InvalidOperationException ex) when (!context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await context.Response.WriteAsJsonAsync(new { errors = new { body = new[] { ex.Message } } });
        }
    }
}

/// <summary>"Authorization: Token {user}" signs the user in.</summary>
public sealed class ConduitTokenAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Token";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Token ", StringComparison.Ordinal))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, header["Token ".Length..])], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
