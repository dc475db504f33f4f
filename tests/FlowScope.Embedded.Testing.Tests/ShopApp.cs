using FlowScope.Embedded.Queues;
using FlowScope.Embedded.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Testing.Tests;

/// <summary>
/// A small shop on TestServer: EF Core on SQLite (an in-memory database), an N+1 endpoint and its fix, a failing
/// endpoint, and an order queue whose handler can be made to fail. Started as "any host": a WebApplication.
/// </summary>
internal sealed class ShopApp : IAsyncDisposable
{
    public const string OrdersQueue = "orders";
    public const int ProductCount = 6;

    private readonly SqliteConnection _database;

    private ShopApp(WebApplication app, SqliteConnection database)
    {
        App = app;
        _database = database;
        Capture = TraceCapture.For(app.Services);
        Client = new HttpClient(Capture.CreateHandler(app.GetTestServer().CreateHandler())) { BaseAddress = app.GetTestServer().BaseAddress };
        Uncaptured = app.GetTestClient();
    }

    public WebApplication App { get; }

    public TraceCapture Capture { get; }

    /// <summary>A client whose requests the capture records.</summary>
    public HttpClient Client { get; }

    /// <summary>A client of the same app whose requests the capture does not know.</summary>
    public HttpClient Uncaptured { get; }

    public static async Task<ShopApp> StartAsync()
    {
        // The in-memory database lives as long as this connection is open.
        var database = new SqliteConnection("Data Source=:memory:");
        await database.OpenAsync();

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddDbContext<ShopDb>(o => o.UseSqlite(database));
        builder.Services.AddFlowScope()
            .AddQueue<OrderPlaced, OrderHandler>(OrdersQueue, o =>
            {
                o.MaxAttempts = 2;
                o.BackoffBase = TimeSpan.FromMilliseconds(1);
                o.BackoffMax = TimeSpan.FromMilliseconds(5);
            });
        builder.Services.AddFlowScopeTesting();

        var app = builder.Build();
        app.UseFlowScope();
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = c => Task.CompletedTask, StatusCodeSelector = _ => StatusCodes.Status500InternalServerError });
        MapEndpoints(app);
        await app.StartAsync();

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ShopDb>();
            await db.Database.EnsureCreatedAsync();
            for (var i = 1; i <= ProductCount; i++)
            {
                var product = new Product { Name = $"product {i}" };
                product.Reviews.Add(new Review { Stars = i % 5 + 1 });
                db.Products.Add(product);
            }

            await db.SaveChangesAsync();
        }

        return new ShopApp(app, database);
    }

    private static void MapEndpoints(WebApplication app)
    {
        app.MapGet("/products", async (ShopDb db) => await db.Products.OrderBy(p => p.Id).Select(p => p.Name).ToListAsync());

        // One query for the products, then one per product: the N+1 FlowScope marks.
        app.MapGet("/products/reviews-one-by-one", async (ShopDb db) =>
        {
            var result = new List<object>();
            foreach (var product in await db.Products.OrderBy(p => p.Id).ToListAsync())
            {
                result.Add(new { product.Name, Reviews = await db.Reviews.CountAsync(r => r.ProductId == product.Id) });
            }

            return result;
        });

        // The same answer in one query.
        app.MapGet("/products/reviews", async (ShopDb db) =>
            await db.Products.OrderBy(p => p.Id).Select(p => new { p.Name, Reviews = p.Reviews.Count }).ToListAsync());

        app.MapGet("/fail", string () => throw new InvalidOperationException("the price service is down"));

        app.MapPost("/orders", async (bool? fail, IQueue<OrderPlaced> orders) =>
        {
            await orders.EnqueueAsync(new OrderPlaced(Guid.NewGuid(), fail ?? false));
            return Results.Accepted();
        });
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Uncaptured.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        await _database.DisposeAsync();
    }
}

internal sealed record OrderPlaced(Guid Id, bool Fail);

/// <summary>Handles orders after the response; fails every attempt for an order placed with <c>fail=true</c>.</summary>
internal sealed class OrderHandler : IQueueHandler<OrderPlaced>
{
    public Task HandleAsync(OrderPlaced message, QueueMessageContext context, CancellationToken cancellationToken) =>
        message.Fail ? throw new InvalidOperationException("the warehouse refused the order") : Task.CompletedTask;
}

internal sealed class ShopDb(DbContextOptions<ShopDb> options) : DbContext(options)
{
    public DbSet<Product> Products => Set<Product>();

    public DbSet<Review> Reviews => Set<Review>();
}

internal sealed class Product
{
    public int Id { get; set; }

    public string Name { get; set; } = "";

    public List<Review> Reviews { get; } = [];
}

internal sealed class Review
{
    public int Id { get; set; }

    public int ProductId { get; set; }

    public int Stars { get; set; }
}
