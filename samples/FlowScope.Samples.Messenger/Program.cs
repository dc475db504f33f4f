using FlowScope.Samples.Messenger;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddFlowScope();
builder.Services.AddSingleton<RoomStore>();

var app = builder.Build();

app.UseFlowScope();

app.MapGet("/", () => Results.Text(
    """
    FlowScope Messenger (sample)
    Dashboard: /_flowscope
    Try: GET /api/rooms, GET /api/rooms/general/messages, POST /api/rooms/general/messages {"author":"ada","text":"hi"}
    """));

var rooms = app.MapGroup("/api/rooms");
rooms.MapGet("/", (RoomStore store) => store.Rooms());
rooms.MapGet("/{room}/messages", (string room, RoomStore store) =>
    store.TryGetMessages(room, out var messages) ? Results.Ok(messages) : Results.Problem(statusCode: 404, title: "Unknown room", detail: $"There is no room '{room}'."));
rooms.MapPost("/{room}/messages", async (string room, NewMessage message, RoomStore store, CancellationToken cancellationToken) =>
{
    if (string.IsNullOrWhiteSpace(message.Author) || string.IsNullOrWhiteSpace(message.Text) || message.Text.Length > 2_000)
    {
        return Results.ValidationProblem(new Dictionary<string, string[]> { ["text"] = ["A message needs an author and 1 to 2000 characters of text."] });
    }

    var stored = await store.AddAsync(room, message, cancellationToken);
    return stored is null
        ? Results.Problem(statusCode: 404, title: "Unknown room", detail: $"There is no room '{room}'.")
        : Results.Created($"/api/rooms/{room}/messages/{stored.Id}", stored);
});

app.MapGet("/api/boom", string () => throw new InvalidOperationException("The sample's failing endpoint failed, as asked."));

app.Run();

/// <summary>The sample's entry point (referenced by its tests).</summary>
public partial class Program;
