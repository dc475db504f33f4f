using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Cors;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.IntegrationTests.Privacy;

// The controllers of a small "real-world" API (articles, users, tags) as apps written for MVC without endpoint
// routing have them: attribute routes, a conventional route, an [EnableCors] controller and an authorized action.

[Route("conduit/articles")]
public sealed class ConduitArticlesController(ILogger<ConduitArticlesController> logger) : Controller
{
    [HttpGet("")]
    public IActionResult List([FromQuery] int limit = 20)
    {
        logger.LogInformation("Listing {Limit} articles", limit);
        logger.LogInformation("Calling {Url}", "https://pay.example/charge?api_key=tmpl-key-5c3d&amount=3");
#pragma warning disable CA2254 // a message built by interpolation, as apps write them
        logger.LogInformation($"Fetched https://cdn.example/a?secret=tmpl-interp-6e4f&size=2 for {Request.Path}");
#pragma warning restore CA2254
        return Json(new { articles = new[] { new { slug = "first-article", title = "First" } }, articlesCount = 1 });
    }

    [HttpGet("{slug}")]
    public IActionResult Get(string slug) => Json(new { article = new { slug } });

    [HttpGet("feed")]
    [Authorize]
    public IActionResult Feed() => Json(new { articles = Array.Empty<object>() });
}

[Route("conduit/users")]
public sealed class ConduitUsersController(ILogger<ConduitUsersController> logger) : Controller
{
    public sealed record LoginRequest(string Email, string Password);

    [HttpPost("login")]
    public IActionResult Login([FromBody] LoginRequest request)
    {
        logger.LogInformation("User {Email} signed in", request.Email);
        return Json(new { user = new { email = request.Email, accessToken = "jwt-" + request.Password[..3] + "-access-7c21e9" } });
    }

    [HttpGet("reset/{token}")]
    public IActionResult Reset(string token, [FromServices] ILogger<ConduitUsersController> log)
    {
        log.LogDebug("Reset link opened with {ResetCode}", token);
        return Json(new { reset = true });
    }
}

[EnableCors("Open")]
[Route("conduit/public")]
public sealed class ConduitPublicController : Controller
{
    [HttpGet("")]
    public IActionResult Index() => Json(new { open = true });
}

/// <summary>Reached through the conventional route <c>{controller}/{action}</c>: <c>/ConduitTags/List</c>.</summary>
public sealed class ConduitTagsController : Controller
{
    public IActionResult List() => Json(new { tags = new[] { "dotnet", "flow" } });
}
