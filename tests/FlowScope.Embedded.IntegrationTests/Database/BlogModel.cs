using Microsoft.EntityFrameworkCore;

namespace FlowScope.Embedded.IntegrationTests.Database;

public sealed class BlogContext(DbContextOptions<BlogContext> options) : DbContext(options)
{
    public DbSet<Article> Articles => Set<Article>();

    public DbSet<Comment> Comments => Set<Comment>();

    /// <summary>Creates the schema and six articles with two comments each.</summary>
    internal static void Seed(BlogContext db)
    {
        db.Database.EnsureCreated();
        for (var i = 1; i <= BlogHost.ArticleCount; i++)
        {
            var article = new Article { Slug = $"article-{i}", Title = $"Article {i}" };
            article.Comments.Add(new Comment { Body = "First!" });
            article.Comments.Add(new Comment { Body = "Nice read." });
            db.Articles.Add(article);
        }

        db.SaveChanges();
    }
}

public sealed class Article
{
    public int Id { get; set; }

    public required string Slug { get; set; }

    public required string Title { get; set; }

    public List<Comment> Comments { get; } = [];
}

public sealed class Comment
{
    public int Id { get; set; }

    public int ArticleId { get; set; }

    public required string Body { get; set; }
}
