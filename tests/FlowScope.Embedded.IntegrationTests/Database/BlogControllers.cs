using Dapper;
using FlowScope.Embedded.Database;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace FlowScope.Embedded.IntegrationTests.Database;

/// <summary>Attribute-routed API, as in a Conduit-style app.</summary>
[ApiController]
[Route("blog/articles")]
public sealed class BlogArticlesController(BlogContext db) : ControllerBase
{
    private readonly BlogContext _db = db;

    /// <summary>The classic N+1: one query for the articles, then one per article for its comments.</summary>
    [HttpGet]
    public async Task<IActionResult> List()
    {
        var articles = await _db.Articles.AsNoTracking().OrderBy(a => a.Id).ToListAsync();
        var result = new List<object>();
        foreach (var article in articles)
        {
            var comments = await _db.Comments.AsNoTracking().Where(c => c.ArticleId == article.Id).CountAsync();
            result.Add(new { article.Slug, comments });
        }

        return Ok(result);
    }

    /// <summary>Three different queries: nothing to flag.</summary>
    [HttpGet("summary")]
    public async Task<IActionResult> Summary()
    {
        var articles = await _db.Articles.CountAsync();
        var comments = await _db.Comments.CountAsync();
        var first = await _db.Articles.OrderBy(a => a.Id).Select(a => a.Title).FirstAsync();
        return Ok(new { articles, comments, first });
    }

    /// <summary>Looks an article up by a title sent in the body (a parameter value that must never be stored).</summary>
    [HttpPost("find")]
    public async Task<IActionResult> Find([FromBody] FindRequest request)
    {
        var found = await _db.Articles.AsNoTracking().Where(a => a.Title == request.Title).Select(a => a.Slug).FirstOrDefaultAsync();
        _db.Comments.Add(new Comment { ArticleId = 1, Body = request.Title });
        await _db.SaveChangesAsync();
        return Ok(new { found });
    }

    /// <summary>A query on a table that does not exist: the provider's error reaches the error-handling middleware.</summary>
    [HttpGet("broken")]
    public async Task<IActionResult> Broken()
    {
        var count = await _db.Database.SqlQueryRaw<int>("SELECT COUNT(*) AS \"Value\" FROM \"MissingTable\"").ToListAsync();
        return Ok(count);
    }

    /// <summary>Dapper on a Microsoft.Data.Sqlite connection, which reports nothing itself: wrapped with WithFlowScope().</summary>
    [HttpGet("dapper")]
    public async Task<IActionResult> Dapper([FromServices] BlogDatabase database)
    {
        await using var connection = new SqliteConnection(database.ConnectionString).WithFlowScope();
        var titles = await connection.QueryAsync<string>("SELECT Title FROM Articles WHERE Id <= @max ORDER BY Id", new { max = 3 });
        var comments = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Comments");
        return Ok(new { titles, comments });
    }

    /// <summary>A parameter whose name says it is a secret (redacted even when parameter values are recorded).</summary>
    [HttpPost("check")]
    public async Task<IActionResult> Check([FromServices] BlogDatabase database, [FromBody] FindRequest request)
    {
        await using var connection = new SqliteConnection(database.ConnectionString).WithFlowScope();
        var matches = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Articles WHERE Title = @password", new { password = request.Title });
        return Ok(new { matches });
    }
}

/// <summary>The body of <see cref="BlogArticlesController.Find"/>.</summary>
public sealed record FindRequest(string Title);

/// <summary>Conventionally routed controller (<c>{controller}/{action}/{id?}</c>).</summary>
public sealed class BlogHomeController(BlogContext db) : Controller
{
    private readonly BlogContext _db = db;

    /// <summary>Runs the same lookup <paramref name="id"/> times, with the same value: exact duplicates.</summary>
    public async Task<IActionResult> Repeat(int id)
    {
        for (var i = 0; i < id; i++)
        {
            _ = await _db.Articles.AsNoTracking().Where(a => a.Id == 1).Select(a => a.Title).FirstAsync();
        }

        return Content("repeated");
    }
}
