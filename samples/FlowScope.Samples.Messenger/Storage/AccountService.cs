using Microsoft.AspNetCore.Identity;

namespace FlowScope.Samples.Messenger.Storage;

/// <summary>Registration and sign-in checks. Passwords are hashed with the framework's <see cref="PasswordHasher{TUser}"/>.</summary>
internal sealed class AccountService(IUserStore users, IChatStore chat, TimeProvider time)
{
    /// <summary>Names nobody can register: the bot posts under one of them.</summary>
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.Ordinal) { "bot", "system", "admin", "flowscope" };

    public const string DefaultRoom = "general";

    private static readonly PasswordHasher<UserAccount> Hasher = new();

    /// <summary>Creates an account and puts it in the default room; <see langword="null"/> when the name is taken.</summary>
    public async Task<UserAccount?> RegisterAsync(string userName, string password)
    {
        if (Reserved.Contains(userName))
        {
            return null;
        }

        var draft = new UserAccount(userName, string.Empty, time.GetUtcNow());
        var account = draft with { PasswordHash = Hasher.HashPassword(draft, password) };
        if (!await users.TryAddAsync(account))
        {
            return null;
        }

        await chat.JoinAsync(DefaultRoom, userName);
        return account;
    }

    /// <summary>
    /// Creates accounts that nobody signs in to (random passwords) and puts them in <paramref name="rooms"/>: two
    /// commands whatever the number of users. Names already taken are left as they are.
    /// </summary>
    public async Task RegisterUnattendedAsync(IReadOnlyCollection<string> userNames, IReadOnlyCollection<string> rooms)
    {
        var accounts = userNames.Select(name =>
        {
            var draft = new UserAccount(name, string.Empty, time.GetUtcNow());
            return draft with { PasswordHash = Hasher.HashPassword(draft, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16))) };
        }).ToList();
        await users.AddManyAsync(accounts);
        await chat.JoinAllAsync(rooms, userNames);
    }

    /// <summary>The account when the password matches; <see langword="null"/> otherwise (unknown name or wrong password alike).</summary>
    public async Task<UserAccount?> VerifyAsync(string userName, string password)
    {
        var account = await users.FindAsync(userName);
        if (account is null)
        {
            // Same cost as a real check, so response times do not tell which names exist.
            Hasher.VerifyHashedPassword(Probe, Probe.PasswordHash, password);
            return null;
        }

        return Hasher.VerifyHashedPassword(account, account.PasswordHash, password) == PasswordVerificationResult.Failed ? null : account;
    }

    private static readonly UserAccount Probe = CreateProbe();

    private static UserAccount CreateProbe()
    {
        var probe = new UserAccount("probe", string.Empty, DateTimeOffset.UnixEpoch);
        return probe with { PasswordHash = Hasher.HashPassword(probe, Guid.NewGuid().ToString("N")) };
    }
}

/// <summary>Creates the default rooms when the app starts (idempotent, so instances sharing Redis can all run it).</summary>
internal sealed class RoomSeeder(IChatStore chat, TimeProvider time) : IHostedService
{
    public static readonly (string Name, string Topic)[] DefaultRooms =
    [
        (AccountService.DefaultRoom, "Everyone, everything"),
        ("random", "Off topic"),
        ("dev", "Builds, bugs and traces"),
        ("design", "Pixels and words"),
        ("ops", "Deploys and dashboards"),
        ("books", "What we are reading"),
    ];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // One trace for the start-up work, two commands whatever the number of rooms.
        using var span = Infrastructure.MessengerTelemetry.StartRoot("seed rooms");
        var now = time.GetUtcNow();
        await chat.CreateRoomsAsync([.. DefaultRooms.Select(r => new RoomInfo(r.Name, r.Topic, now))]);
        await chat.JoinAllAsync([.. DefaultRooms.Select(r => r.Name)], [Pipeline.BotWorker.UserName]);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
