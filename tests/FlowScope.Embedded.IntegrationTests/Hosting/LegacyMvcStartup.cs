using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.IntegrationTests.Hosting;

/// <summary>
/// A Startup class with MVC without endpoint routing (<c>EnableEndpointRouting = false</c>, <c>UseMvc</c>): attribute
/// routes and a conventional route, three controllers with a <c>Create</c> action each, the app's error handling
/// outermost.
/// </summary>
public sealed class LegacyMvcStartup(IConfiguration configuration)
{
    private bool FlowScope => configuration.GetValue("Legacy:FlowScope", true);

    public void ConfigureServices(IServiceCollection services)
    {
        if (FlowScope)
        {
            services.AddFlowScope();
        }

        services.AddSingleton<CaughtExceptions>();
        services.AddMvc(o => o.EnableEndpointRouting = false).AddApplicationPart(typeof(LegacyMvcStartup).Assembly);
    }

    public void Configure(IApplicationBuilder app)
    {
        app.UseMiddleware<AppErrorHandlingMiddleware>();
        if (FlowScope)
        {
            app.UseFlowScope();
        }

#pragma warning disable MVC1005 // EnableEndpointRouting = false is set in ConfigureServices
        app.UseMvc(routes => routes.MapRoute("default", "{controller}/{action=Index}/{id?}"));
#pragma warning restore MVC1005
    }
}

[Route("legacy/articles")]
public sealed class LegacyArticlesController : Controller
{
    [HttpPost("")]
    public IActionResult Create([FromBody] Draft draft) => Json(new { draft.Title });

    [HttpGet("{slug}")]
    public IActionResult Get(string slug) => slug == "broken" ? throw new InvalidOperationException("The article store is offline.") : Json(new { slug });

    public sealed record Draft(string Title);
}

[Route("legacy/articles/{slug}/comments")]
public sealed class LegacyCommentsController : Controller
{
    [HttpPost("")]
    public IActionResult Create(string slug, [FromBody] Note note) => Json(new { slug, note.Body });

    public sealed record Note(string Body);
}

/// <summary>Reached by the conventional route only: <c>POST /LegacyUsers/Create</c>.</summary>
public sealed class LegacyUsersController : Controller
{
    [HttpPost]
    public IActionResult Create(int? id) => StatusCode(StatusCodes.Status201Created, new { id });
}
