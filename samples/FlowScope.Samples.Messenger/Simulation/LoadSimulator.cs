using System.Security.Cryptography;
using FlowScope.Samples.Messenger.Infrastructure;
using FlowScope.Samples.Messenger.Pipeline;
using FlowScope.Samples.Messenger.Storage;
using Microsoft.Extensions.Options;

namespace FlowScope.Samples.Messenger.Simulation;

/// <summary>
/// Starts, stops and paces the simulated users. Off unless <c>Messenger:Simulator:Enabled=true</c>; an operator can
/// call <see cref="Start"/>, <see cref="Stop"/> and <see cref="SetRate"/> at any time.
/// </summary>
internal sealed class SimulatorControl
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _running = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private double _rate;

    public SimulatorControl(IOptions<MessengerOptions> options)
    {
        var simulator = options.Value.Simulator;
        _rate = simulator.MessagesPerSecond;
        if (simulator.Enabled)
        {
            _running.TrySetResult();
        }
    }

    public bool IsRunning
    {
        get
        {
            lock (_lock)
            {
                return _running.Task.IsCompleted;
            }
        }
    }

    /// <summary>Simulated messages per second, all simulated users together.</summary>
    public double MessagesPerSecond
    {
        get
        {
            lock (_lock)
            {
                return _rate;
            }
        }
    }

    public void Start()
    {
        lock (_lock)
        {
            _running.TrySetResult();
        }
    }

    public void Stop()
    {
        lock (_lock)
        {
            if (_running.Task.IsCompleted)
            {
                _running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    /// <summary>Changes the pace (0.01 to 1 000 messages per second); takes effect from the next message.</summary>
    public void SetRate(double messagesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(messagesPerSecond, 0.01);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(messagesPerSecond, 1_000);
        lock (_lock)
        {
            _rate = messagesPerSecond;
        }
    }

    internal Task WhenRunningAsync(CancellationToken cancellationToken)
    {
        Task task;
        lock (_lock)
        {
            task = _running.Task;
        }

        return task.WaitAsync(cancellationToken);
    }
}

/// <summary>
/// The simulated users: while the simulator runs they chat in the default rooms through the same pipeline as real
/// users (each message is a trace starting at <c>simulate message</c>), now and then asking the bot something.
/// </summary>
internal sealed partial class LoadSimulator(
    SimulatorControl control,
    AccountService accounts,
    IChatStore store,
    MessageIntake intake,
    IOptions<MessengerOptions> options,
    TimeProvider time,
    ILogger<LoadSimulator> logger) : BackgroundService
{
    private static readonly string[] Names = ["ada", "grace", "linus", "barbara", "ken", "margaret", "dennis", "frances", "alan", "radia"];

    private static readonly string[] Lines =
    [
        "morning all", "anyone seen the build?", "the deploy went fine", "coffee?", "pushing a fix now",
        "lgtm", "can someone review my PR?", "the queue looks backed up", "retrying…", "back in 5",
        "that trace is interesting", "who broke main", "shipping it", "works on my machine", "thanks!",
    ];

    private static readonly string[] Commands = ["/roll 2d6", "/weather Lisbon", "/flip", "/time", "/help", "/dance"];

    private readonly List<string> _users = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await control.WhenRunningAsync(stoppingToken);
                if (_users.Count == 0)
                {
                    await CreateUsersAsync();
                    LogStarted(logger, _users.Count, control.MessagesPerSecond);
                }

                await SendOneAsync(stoppingToken);
                await Task.Delay(TimeSpan.FromSeconds(1 / control.MessagesPerSecond), time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task CreateUsersAsync()
    {
        var count = Math.Min(options.Value.Simulator.Users, Names.Length);
        foreach (var name in Names.Take(count))
        {
            var userName = "sim-" + name;
            // Random passwords: nobody signs in as a simulated user.
            await accounts.RegisterAsync(userName, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));
            foreach (var (room, _) in RoomSeeder.DefaultRooms)
            {
                await store.JoinAsync(room, userName);
            }

            _users.Add(userName);
        }
    }

    private async Task SendOneAsync(CancellationToken cancellationToken)
    {
        var random = Random.Shared;
        var user = _users[random.Next(_users.Count)];
        var room = RoomSeeder.DefaultRooms[random.Next(RoomSeeder.DefaultRooms.Length)].Name;
        var text = random.NextDouble() < 0.1 ? Commands[random.Next(Commands.Length)] : Lines[random.Next(Lines.Length)];
        using var span = MessengerTelemetry.StartReceive("simulate message", default);
        span?.SetTag("messenger.user", user);
        span?.SetTag("messenger.room", room);
        span?.SetTag("messenger.simulated", true);
        try
        {
            await intake.AcceptAsync(user, room, text, clientId: null, system: false, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            span.Fail("simulator", ex.Message);
            LogFailed(logger, ex);
        }
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Load simulator running: {Users} users, {Rate} messages per second")]
    private static partial void LogStarted(ILogger logger, int users, double rate);

    [LoggerMessage(EventId = 41, Level = LogLevel.Warning, Message = "A simulated message failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
