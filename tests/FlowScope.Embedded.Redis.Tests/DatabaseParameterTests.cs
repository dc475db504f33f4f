using System.Text;
using System.Text.Json;
using FlowScope.Embedded.Database;
using FlowScope.Embedded.Redis.Internal;
using FlowScope.Embedded.Redis.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Redis.Tests;

/// <summary>A database command's parameter values never reach the Redis stream; its statement does, with placeholders.</summary>
public class DatabaseParameterTests(RedisServer server) : IClassFixture<RedisServer>
{
    private const string Secret = "param-value-2b9e-private";

    [Fact]
    public async Task The_Redis_stream_holds_statements_and_no_parameter_value()
    {
        var prefix = RedisStack.NewPrefix();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FlowScope:Redis:ConnectionString"] = server.ConnectionString,
            ["FlowScope:Redis:KeyPrefix"] = prefix,
        });
        builder.Services.AddFlowScope().AddRedisStreams();
        await using var app = builder.Build();
        app.UseFlowScope();
        app.MapPost("/notes", async () =>
        {
            await using var connection = new SqliteConnection("Data Source=:memory:").WithFlowScope();
            await connection.OpenAsync();
            await using var create = connection.CreateCommand();
            create.CommandText = "CREATE TABLE Notes (Body TEXT)";
            await create.ExecuteNonQueryAsync();
            await using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO Notes (Body) VALUES (@body)";
            var body = insert.CreateParameter();
            body.ParameterName = "@body";
            body.Value = Secret;
            insert.Parameters.Add(body);
            return await insert.ExecuteNonQueryAsync();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using (var client = new HttpClient { BaseAddress = new Uri(address) })
        using (var response = await client.PostAsync("/notes", null))
        {
            Assert.True(response.IsSuccessStatusCode);
        }

        using var redis = await RedisStack.ConnectAsync(server);
        StackExchange.Redis.StreamEntry[] entries = [];
        await Eventually.WaitUntilAsync(
            async () =>
            {
                entries = await redis.GetDatabase().StreamRangeAsync(prefix + ":spans");
                return entries.SelectMany(e => StreamEntryFormat.Decode(e).Batch.Decode()).Any(s => s.Name == "INSERT Notes");
            },
            TimeSpan.FromSeconds(30),
            "the command is persisted");

        var raw = string.Join("\n", entries.Select(e => Encoding.UTF8.GetString((byte[])e[StreamEntryFormat.PayloadField]!)));
        var decoded = JsonSerializer.Serialize(entries.SelectMany(e => StreamEntryFormat.Decode(e).Batch.Decode())
            .Select(s => new { s.Name, s.Attributes, Events = s.Events.Select(ev => new { ev.Name, ev.Attributes }) }));
        Assert.Contains("INSERT INTO Notes (Body) VALUES (@body)", raw, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, raw, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, decoded, StringComparison.Ordinal);
        await app.StopAsync();
    }
}
