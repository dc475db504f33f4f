using System.Net.WebSockets;
using System.Text.Json;
using FlowScope.Embedded.IntegrationTests.Hosting.Inventory;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace FlowScope.Embedded.IntegrationTests.Hosting;

/// <summary>SignalR and gRPC as their own components; long-lived connections kept apart from request latency.</summary>
public sealed class RealtimeTests
{
    private static async Task<JsonElement[]> AllSpansAsync(HostingApp app, string query)
    {
        var list = await app.GetJsonAsync("/_flowscope/api/traces?limit=1000" + query);
        var spans = new List<JsonElement>();
        foreach (var trace in list.GetProperty("traces").EnumerateArray())
        {
            spans.AddRange(await app.SpansAsync(trace));
        }

        return [.. spans];
    }

    [Fact]
    public async Task A_hub_connection_is_a_connection_and_connect_invocations_and_disconnect_are_signalr_spans()
    {
        await using var app = await HostingApp.StartAsync();
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(app.Http1, "hubs/chat"), HttpTransportType.WebSockets, o =>
            {
                o.HttpMessageHandlerFactory = _ => HostingApp.Untraced();
                o.WebSocketFactory = async (context, cancellationToken) =>
                {
                    var socket = new ClientWebSocket();
                    await socket.ConnectAsync(context.Uri, new HttpMessageInvoker(HostingApp.Untraced()), cancellationToken);
                    return socket;
                };
            })
            .Build();
        await hub.StartAsync();
        Assert.Equal("echo: hi", await hub.InvokeAsync<string>("Send", "hi"));
        await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync("Fail"));
        await hub.StopAsync();
        await hub.DisposeAsync();

        // The connection: the GET that upgraded to a WebSocket, kept as a connection (not a request).
        var connection = await app.WaitForTraceAsync(t => t.Str("kind") == "connection" && t.Str("route") == "/hubs/chat", "the hub connection");
        var connectionSpans = await app.SpansAsync(connection);
        var root = connectionSpans.Single(s => s.Str("parentSpanId") is null);
        Assert.Equal("signalr", root.Attr("flowscope.connection"));
        Assert.Contains(connectionSpans, s => s.Str("component") == "signalr" && s.Str("name") == "ChatHub");

        // The negotiation is an ordinary request.
        var negotiate = await app.WaitForTraceAsync(t => t.Str("route") == "/hubs/chat/negotiate", "the negotiation");
        Assert.Equal("http", negotiate.Str("kind"));
        Assert.Contains(await app.SpansAsync(negotiate), s => s.Str("component") == "signalr" && s.Str("name") == "ChatHub negotiate");

        // Connect, each invocation and disconnect: spans of their own, component signalr, named by hub and method.
        JsonElement[] spans = [];
        await Eventually.TrueAsync(
            async () => (spans = await AllSpansAsync(app, "&component=signalr")).Count(s => s.Attr("rpc.system") == "signalr" || s.Str("name")!.Contains("ChatHub/", StringComparison.Ordinal)) >= 4,
            because: "connect, two invocations and disconnect");
        var hubSpans = spans.Where(s => s.Str("component") == "signalr" && s.Str("name")!.Contains("ChatHub/", StringComparison.Ordinal)).ToArray();
        Assert.Contains(hubSpans, s => s.Str("name")!.EndsWith("ChatHub/Send", StringComparison.Ordinal) && s.Attr("rpc.method") == "Send");
        var fail = hubSpans.Single(s => s.Str("name")!.EndsWith("ChatHub/Fail", StringComparison.Ordinal));
        Assert.Equal("error", fail.Str("status"));
        Assert.Contains(hubSpans, s => s.Str("name")!.Contains("OnConnected", StringComparison.Ordinal));
        Assert.Contains(hubSpans, s => s.Str("name")!.Contains("OnDisconnected", StringComparison.Ordinal));

        var kinds = (await app.GetJsonAsync("/_flowscope/api/traces?limit=1000&component=signalr")).GetProperty("traces").EnumerateArray()
            .Where(t => t.Str("name")!.Contains("ChatHub/", StringComparison.Ordinal)).Select(t => t.Str("kind")).Distinct().ToArray();
        Assert.Equal("message", Assert.Single(kinds));

        var map = await app.GetJsonAsync("/_flowscope/api/map");
        Assert.Contains(map.GetProperty("nodes").EnumerateArray(), n => n.Str("component") == "signalr" && n.Str("name")!.EndsWith("ChatHub/Send", StringComparison.Ordinal));
    }

    [Fact]
    public async Task gRPC_calls_over_HTTP2_are_named_by_service_and_method_with_their_status_and_client_spans()
    {
        await using var app = await HostingApp.StartAsync();
        using var channel = GrpcChannel.ForAddress(app.Http2);
        var client = new Stock.StockClient(channel);

        Assert.Equal(7, (await client.CheckAsync(new StockRequest { Sku = "a1" })).Available);
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(async () => await client.CheckAsync(new StockRequest { Sku = "missing" }))).StatusCode);
        Assert.Equal(StatusCode.Unknown, (await Assert.ThrowsAsync<RpcException>(async () => await client.CheckAsync(new StockRequest { Sku = "broken" }))).StatusCode);
        using (var watch = client.Watch(new StockRequest { Sku = "a1", Count = 3 }))
        {
            var seen = 0;
            while (await watch.ResponseStream.MoveNext(CancellationToken.None))
            {
                seen++;
            }

            Assert.Equal(3, seen);
        }

        JsonElement[] spans = [];
        await Eventually.TrueAsync(
            async () =>
            {
                spans = await AllSpansAsync(app, "&component=grpc");
                return spans.Count(s => s.Str("kind") == "server" && s.Attr("rpc.system") == "grpc") >= 4
                    && spans.Count(s => s.Str("kind") == "client" && s.Str("component") == "grpc") >= 4;
            },
            because: "four gRPC calls made and served");

        // Served: the request is named by its service method, carries rpc.* and the gRPC status.
        var served = spans.Where(s => s.Str("kind") == "server" && s.Attr("rpc.system") == "grpc").ToArray();
        var checks = served.Where(s => s.Attr("rpc.method") == "Check").ToArray();
        Assert.All(checks, s => Assert.Equal("inventory.Stock", s.Attr("rpc.service")));
        Assert.All(checks, s => Assert.Equal("POST /inventory.Stock/Check", s.Str("name")));
        Assert.Equal(["0", "2", "5"], checks.Select(s => s.Attr("rpc.grpc.status_code")).Order(StringComparer.Ordinal));
        Assert.Equal("error", checks.Single(s => s.Attr("rpc.grpc.status_code") == "2").Str("status"));
        Assert.NotEqual("error", checks.Single(s => s.Attr("rpc.grpc.status_code") == "5").Str("status")); // NotFound is the caller's problem

        // Its endpoint stage is a grpc node named by service and method.
        Assert.Contains(spans, s => s.Str("component") == "grpc" && s.Str("kind") != "client" && s.Str("name") == "inventory.Stock/Check");

        // The streaming call is a connection.
        var stream = served.Single(s => s.Attr("rpc.method") == "Watch");
        Assert.Equal("grpc-stream", stream.Attr("flowscope.connection"));

        // The client side: Grpc.Net.Client's calls are grpc client spans, parents of the calls served.
        var calls = spans.Where(s => s.Str("component") == "grpc" && s.Str("kind") == "client").ToArray();
        Assert.Equal(4, calls.Length);
        Assert.Equal(3, calls.Count(c => c.Str("name") == "inventory.Stock/Check"));
        Assert.Equal("error", calls.Single(c => c.Attr("rpc.grpc.status_code") == "5").Str("status"));
        var call = calls.Single(c => c.Attr("rpc.grpc.status_code") == "0" && c.Attr("rpc.method") == "Check");
        var server = checks.Single(s => s.Attr("rpc.grpc.status_code") == "0");
        Assert.Equal(call.Str("spanId"), spans.Single(s => s.Str("spanId") == server.Str("parentSpanId")).Str("parentSpanId") ?? server.Str("parentSpanId"));

        var map = await app.GetJsonAsync("/_flowscope/api/map");
        Assert.Contains(map.GetProperty("nodes").EnumerateArray(), n => n.Str("component") == "grpc" && n.Str("name") == "inventory.Stock/Check");
    }

    [Fact]
    public async Task WebSocket_and_SSE_connections_are_connections_and_stay_out_of_request_p99()
    {
        await using var app = await HostingApp.StartAsync();
        for (var i = 0; i < 20; i++)
        {
            await app.Client.GetStringAsync("/todos/");
        }

        Assert.Contains("data: tick 2", await app.Client.GetStringAsync("/events"), StringComparison.Ordinal);

        using (var socket = new ClientWebSocket())
        {
            using var invoker = new HttpMessageInvoker(HostingApp.Untraced());
            await socket.ConnectAsync(new Uri($"ws://{app.Http1.Authority}/ws"), invoker, CancellationToken.None);
            await socket.SendAsync("ping"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[16];
            Assert.Equal(4, (await socket.ReceiveAsync(buffer, CancellationToken.None)).Count);

            // The connection stays open (what a chat client does); its lifetime must not read as request latency.
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }

        var ws = await app.WaitForTraceAsync(t => t.Str("kind") == "connection" && t.Str("route") == "/ws", "the WebSocket connection");
        Assert.True(ws.GetProperty("durationMs").GetDouble() >= 1500);
        Assert.Equal("websocket", (await app.SpansAsync(ws)).Single(s => s.Str("parentSpanId") is null).Attr("flowscope.connection"));

        var sse = await app.WaitForTraceAsync(t => t.Str("route") == "/events", "the event stream");
        Assert.Equal("connection", sse.Str("kind"));
        Assert.Equal("sse", (await app.SpansAsync(sse)).Single(s => s.Str("parentSpanId") is null).Attr("flowscope.connection"));

        // Request percentiles are the requests': the 1.5 s connection is counted among connections only.
        JsonElement metrics = default;
        await Eventually.TrueAsync(
            async () =>
            {
                metrics = await app.GetJsonAsync("/_flowscope/api/metrics");
                var connections = metrics.GetProperty("kinds").EnumerateArray().FirstOrDefault(k => k.Str("kind") == "connection");
                return metrics.GetProperty("requestsTotal").GetInt64() >= 20 && connections.ValueKind == JsonValueKind.Object && connections.GetProperty("total").GetInt64() >= 2;
            },
            because: "20 requests and 2 connections counted");
        Assert.True(metrics.GetProperty("latencyP99Ms").GetDouble() < 1000, metrics.ToString());
        var connectionKind = metrics.GetProperty("kinds").EnumerateArray().Single(k => k.Str("kind") == "connection");
        Assert.True(connectionKind.GetProperty("p99Ms").GetDouble() >= 1500, connectionKind.ToString());
    }
}
