using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// <c>-- probe</c>: hosts a minimal app with FlowScope on a loopback port, sends one request and prints the stored
/// root span's attributes. Shows what a real server span looks like on this runtime (the converter's input for
/// the "typical server span" benchmarks).
/// </summary>
internal static class ServerSpanProbe
{
    public static async Task<int> RunAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddFlowScope();
        await using var app = builder.Build();
        app.UseFlowScope();
        app.MapGet(Fixtures.Route, (int roomId) => Results.Ok(new[] { roomId }));
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            using var client = new HttpClient { BaseAddress = new Uri(address) };
            using (var response = await client.GetAsync(new Uri("/rooms/42/messages", UriKind.Relative)))
            {
                Console.WriteLine($"GET /rooms/42/messages -> {(int)response.StatusCode}");
            }

            var store = app.Services.GetRequiredService<ITraceStore>();
            for (var attempt = 0; attempt < 50; attempt++)
            {
                var page = await store.QueryAsync(new TraceQuery { Limit = 10 });
                foreach (var summary in page.Traces)
                {
                    var detail = await store.GetTraceAsync(summary.TraceId);
                    var root = detail!.Spans.FirstOrDefault(s => s.Component == SpanComponents.Server);
                    if (root is null)
                    {
                        continue;
                    }

                    Console.WriteLine($"root span '{root.Name}' ({root.Source}), {root.Attributes.Count} attributes:");
                    foreach (var pair in root.Attributes)
                    {
                        Console.WriteLine($"  {pair.Key} = {pair.Value}");
                    }

                    var duplicates = root.Attributes.GroupBy(p => p.Key, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
                    Console.WriteLine(duplicates.Count == 0 ? "no duplicate keys" : $"duplicate keys: {string.Join(", ", duplicates)}");
                    return 0;
                }

                await Task.Delay(100);
            }

            Console.WriteLine("no server span was stored");
            return 1;
        }
        finally
        {
            await app.StopAsync();
        }
    }
}
