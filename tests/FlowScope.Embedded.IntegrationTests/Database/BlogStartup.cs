using System.Diagnostics;
using System.Reflection;
using System.Threading.Channels;
using FlowScope.Embedded.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;

namespace FlowScope.Embedded.IntegrationTests.Database;

/// <summary>
/// A Startup-class app shaped like a real one: MVC without endpoint routing (<c>UseMvc</c>, attribute and
/// conventional routes), a CORS policy, an error-handling middleware, EF Core on SQLite, a hosted worker — and the two
/// FlowScope lines.
/// </summary>
internal sealed class BlogStartup(IConfiguration configuration)
{
    public void ConfigureServices(IServiceCollection services)
    {
        services.AddFlowScope();
        services.AddSingleton(new BlogDatabase(configuration["Blog:ConnectionString"]!));
        var npgsqlLike = configuration.GetValue<bool>("Blog:NpgsqlLikeSpans");
        services.AddDbContext<BlogContext>((sp, o) =>
        {
            o.UseSqlite(sp.GetRequiredService<BlogDatabase>().ConnectionString);
            if (npgsqlLike)
            {
                o.AddInterceptors(new NpgsqlLikeSpans());
            }
        });
        services.AddCors(o => o.AddPolicy("frontend", p => p.WithOrigins("https://blog.example").AllowAnyHeader().AllowAnyMethod()));
        services.AddMvc(o => o.EnableEndpointRouting = false)
            .ConfigureApplicationPartManager(parts => parts.FeatureProviders.Add(new BlogControllersOnly()));
        services.AddSingleton<DigestWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<DigestWorker>());

        if (configuration.GetValue<bool>("Blog:OpenTelemetry"))
        {
            // The app also exports with OpenTelemetry, EF Core instrumentation included.
            var exported = new List<Activity>();
            services.AddSingleton(exported);
            services.AddOpenTelemetry().WithTracing(t => t
                .SetSampler(new AlwaysOnSampler())
                .AddEntityFrameworkCoreInstrumentation()
                .AddInMemoryExporter(exported));
        }
    }

    public void Configure(IApplicationBuilder app)
    {
        app.UseMiddleware<BlogErrorMiddleware>();
        app.UseCors("frontend");
        app.UseFlowScope();
#pragma warning disable MVC1005 // this app deliberately runs MVC without endpoint routing
        app.UseMvc(routes => routes.MapRoute("default", "{controller=BlogHome}/{action=Repeat}/{id?}"));
#pragma warning restore MVC1005
    }

    /// <summary>Keeps the other test apps' controllers out of this one.</summary>
    private sealed class BlogControllersOnly : IApplicationFeatureProvider<ControllerFeature>
    {
        public void PopulateFeature(IEnumerable<ApplicationPart> parts, ControllerFeature feature)
        {
            feature.Controllers.Clear();
            feature.Controllers.Add(typeof(BlogArticlesController).GetTypeInfo());
            feature.Controllers.Add(typeof(BlogHomeController).GetTypeInfo());
        }
    }
}

/// <summary>Where the blog's SQLite file is.</summary>
public sealed record BlogDatabase(string ConnectionString);

/// <summary>The app's own error handling: a JSON problem with the exception's message, status 500.</summary>
internal sealed class BlogErrorMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await context.Response.WriteAsJsonAsync(new { error = ex.Message });
        }
    }
}

/// <summary>A hosted worker that builds a digest outside any request: one query for the articles, one per article.</summary>
internal sealed class DigestWorker(IServiceScopeFactory scopes, IWorkerScope<DigestWorker> worker) : BackgroundService
{
    private readonly Channel<string> _requests = Channel.CreateUnbounded<string>();

    public void Request(string user) => _requests.Writer.TryWrite(user);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var user in _requests.Reader.ReadAllAsync(stoppingToken))
        {
            using var work = worker.StartUnitOfWork("build digest");
            work.Activity?.SetTag("digest.user", user);
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<BlogContext>();
            foreach (var id in await db.Articles.Select(a => a.Id).ToListAsync(stoppingToken))
            {
                _ = await db.Comments.Where(c => c.ArticleId == id).Select(c => c.Body).ToListAsync(stoppingToken);
            }
        }
    }
}
