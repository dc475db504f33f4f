using System.Diagnostics;
using System.Security.Cryptography;
using FlowScope.Samples.Messenger.Infrastructure;
using FlowScope.Samples.Messenger.Pipeline;
using FlowScope.Samples.Messenger.Storage;
using Microsoft.Extensions.Options;

namespace FlowScope.Samples.Messenger.Simulation;

/// <summary>
/// The simulated users of FlowScope's <c>chat</c> simulator: each run, one of them says something in a default room
/// through the same pipeline as real users (each message is a trace starting at <c>simulate chat</c>), now and then
/// asking the bot something. FlowScope paces the runs; operators start, stop and pace them from the dashboard.
/// </summary>
internal sealed partial class LoadSimulator(
    AccountService accounts,
    MessageIntake intake,
    IOptions<MessengerOptions> options,
    ILogger<LoadSimulator> logger) : IDisposable
{
    /// <summary>The simulator's name in FlowScope's Controls view and API.</summary>
    public const string Name = "chat";

    private static readonly string[] Names = ["ada", "grace", "linus", "barbara", "ken", "margaret", "dennis", "frances", "alan", "radia"];

    private static readonly string[] Lines =
    [
        "morning all", "anyone seen the build?", "the deploy went fine", "coffee?", "pushing a fix now",
        "lgtm", "can someone review my PR?", "the queue looks backed up", "retrying…", "back in 5",
        "that trace is interesting", "who broke main", "shipping it", "works on my machine", "thanks!",
    ];

    private static readonly string[] Commands = ["/roll 2d6", "/weather Lisbon", "/flip", "/time", "/help", "/dance"];

    private readonly List<string> _users = [];

    private readonly SemaphoreSlim _setup = new(1, 1);

    /// <summary>One simulated message (the simulated users are created by the first run).</summary>
    public async Task SendOneAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _ready) == 0)
        {
            await _setup.WaitAsync(cancellationToken);
            try
            {
                if (_ready == 0)
                {
                    await CreateUsersAsync();
                    LogStarted(logger, _users.Count);
                    Volatile.Write(ref _ready, 1);
                }
            }
            finally
            {
                _setup.Release();
            }
        }

        await SendCoreAsync(cancellationToken);
    }

    private int _ready;

    public void Dispose() => _setup.Dispose();

    private async Task CreateUsersAsync()
    {
        var count = Math.Min(options.Value.Simulator.Users, Names.Length);
        var userNames = Names.Take(count).Select(name => "sim-" + name).ToList();
        // A trace of its own, not part of the first simulated message's.
        using (MessengerTelemetry.StartRoot("create simulated users"))
        {
            await accounts.RegisterUnattendedAsync(userNames, [.. RoomSeeder.DefaultRooms.Select(r => r.Name)]);
        }

        _users.AddRange(userNames);
    }

    private async Task SendCoreAsync(CancellationToken cancellationToken)
    {
        var random = Random.Shared;
        var user = _users[random.Next(_users.Count)];
        var room = RoomSeeder.DefaultRooms[random.Next(RoomSeeder.DefaultRooms.Length)].Name;
        var text = random.NextDouble() < 0.1 ? Commands[random.Next(Commands.Length)] : Lines[random.Next(Lines.Length)];
        // FlowScope's "simulate chat" span is current: it carries who said what where.
        var span = Activity.Current;
        span?.SetTag("messenger.user", user);
        span?.SetTag("messenger.room", room);
        span?.SetTag("messenger.simulated", true);
        await intake.AcceptAsync(user, room, text, clientId: null, system: false, cancellationToken);
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Chat simulator ready: {Users} simulated users")]
    private static partial void LogStarted(ILogger logger, int users);
}
