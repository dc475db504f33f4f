using System.Net.WebSockets;
using FlowScope.Embedded.IntegrationTests.Hosting.Inventory;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.SignalR;

namespace FlowScope.Embedded.IntegrationTests.Hosting;

// The parts of the hosting test app: controllers, a Razor Page, a SignalR hub, a gRPC service and the app's own
// error handling, as an app that mixes every hosting style has them.

/// <summary>Controllers with attribute routes (endpoint routing), one action that fails.</summary>
[ApiController]
[Route("shop/orders")]
public sealed class ShopOrdersController : ControllerBase
{
    [HttpGet("{id:int}")]
    public IActionResult Get(int id) => Ok(new { id });

    [HttpPost("")]
    public IActionResult Create([FromBody] OrderInput input) => Created($"/shop/orders/{input.Sku.Length}", new { input.Sku });

    [HttpGet("broken")]
    public IActionResult Broken() => throw new InvalidOperationException("The order book is closed.");

    public sealed record OrderInput(string Sku);
}

/// <summary>A Razor Page.</summary>
public sealed class StatusPage : PageModel
{
    public string State { get; private set; } = string.Empty;

    public void OnGet() => State = "open";
}

/// <summary>A chat hub: connect, invoke, disconnect.</summary>
public sealed class ChatHub : Hub
{
    public Task<string> Send(string text) => Task.FromResult("echo: " + text);

    public Task Fail() => throw new HubException("The room is closed.");
}

/// <summary>The gRPC service: a unary call (with failures on request) and a server-streaming one.</summary>
public sealed class StockService : Stock.StockBase
{
    public override Task<StockReply> Check(StockRequest request, ServerCallContext context) => request.Sku switch
    {
        "missing" => throw new RpcException(new Status(StatusCode.NotFound, "No such item.")),
        "broken" => throw new InvalidOperationException("The stock ledger is unreadable."),
        _ => Task.FromResult(new StockReply { Sku = request.Sku, Available = 7 }),
    };

    public override async Task Watch(StockRequest request, IServerStreamWriter<StockReply> responseStream, ServerCallContext context)
    {
        for (var i = 0; i < request.Count; i++)
        {
            await responseStream.WriteAsync(new StockReply { Sku = request.Sku, Available = i });
        }
    }
}

/// <summary>The app's error handling: turns an exception into a 500 and keeps what it caught, as an app logs it.</summary>
public sealed class AppErrorHandlingMiddleware(RequestDelegate next, CaughtExceptions caught)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            caught.Add(ex);
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            await context.Response.WriteAsync("error");
        }
    }
}

/// <summary>A middleware of the app that fails on its own path, synchronously or after an await.</summary>
public sealed class FlakyMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Path == "/flaky/sync")
        {
            throw new InvalidOperationException("The flaky middleware failed at once.");
        }

        return context.Request.Path == "/flaky/async" ? FailLaterAsync() : next(context);
    }

    private static async Task FailLaterAsync()
    {
        await Task.Yield();
        throw new InvalidOperationException("The flaky middleware failed later.");
    }
}

/// <summary>The exceptions the app's error handler caught.</summary>
public sealed class CaughtExceptions
{
    private readonly List<Exception> _caught = [];

    public void Add(Exception exception)
    {
        lock (_caught)
        {
            _caught.Add(exception);
        }
    }

    public IReadOnlyList<Exception> All
    {
        get
        {
            lock (_caught)
            {
                return [.. _caught];
            }
        }
    }
}

/// <summary>Long-lived endpoints: a WebSocket echo held open until the client closes, and a Server-Sent Events feed.</summary>
internal static class LongLived
{
    public static async Task WebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[256];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
        }
    }

    public static async Task EventsAsync(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        for (var i = 0; i < 3; i++)
        {
            await context.Response.WriteAsync($"data: tick {i}\n\n");
            await context.Response.Body.FlushAsync();
        }
    }
}
