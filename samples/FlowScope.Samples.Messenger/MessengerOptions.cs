using System.ComponentModel.DataAnnotations;

namespace FlowScope.Samples.Messenger;

/// <summary>The messenger's settings, bound from the <c>Messenger</c> configuration section.</summary>
internal sealed class MessengerOptions
{
    public const string SectionName = "Messenger";

    /// <summary>The longest message text, in characters.</summary>
    [Range(1, 100_000)]
    public int MaxMessageLength { get; set; } = 2_000;

    /// <summary>The largest WebSocket frame (one whole message) a client may send, in bytes.</summary>
    [Range(256, 1_048_576)]
    public int MaxFrameBytes { get; set; } = 16_384;

    /// <summary>How many messages one connection may send per second on average (token bucket refill).</summary>
    [Range(1, 10_000)]
    public int SocketMessagesPerSecond { get; set; } = 10;

    /// <summary>How many messages one connection may send in a burst (token bucket size).</summary>
    [Range(1, 10_000)]
    public int SocketBurst { get; set; } = 30;

    /// <summary>How many WebSocket connections one user may hold at once.</summary>
    [Range(1, 100)]
    public int MaxConnectionsPerUser { get; set; } = 8;

    /// <summary>How long a send to one socket may take before the connection is considered dead.</summary>
    public TimeSpan SocketSendTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>HTTP API requests per minute for one user (or one address when signed out).</summary>
    [Range(1, 1_000_000)]
    public int ApiRequestsPerMinute { get; set; } = 600;

    /// <summary>Sign-in and registration attempts per minute from one address.</summary>
    [Range(1, 1_000_000)]
    public int AuthRequestsPerMinute { get; set; } = 30;

    /// <summary>
    /// The SQLite database file (created on first use, schema included). Empty: a new file in the temp folder for each
    /// run, deleted when the app stops. Not used when <c>ConnectionStrings:Redis</c> is set.
    /// </summary>
    public string? Database { get; set; }

    /// <summary>
    /// Whether the room list loads every room's members in one query. <see langword="false"/> (the default) keeps the
    /// deliberate N+1 — one members query per room — that FlowScope's dashboard flags.
    /// </summary>
    public bool FixNPlusOne { get; set; }

    /// <summary>Messages kept per room.</summary>
    [Range(10, 1_000_000)]
    public int HistoryPerRoom { get; set; } = 500;

    public NotificationOptions Notifications { get; set; } = new();

    public SimulatorSettings Simulator { get; set; } = new();
}

/// <summary>The simulated e-mail/push provider.</summary>
internal sealed class NotificationOptions
{
    /// <summary>The chance (0 to 1) that one delivery attempt fails.</summary>
    [Range(0.0, 1.0)]
    public double FailureRate { get; set; } = 0.2;

    /// <summary>Every message's first N attempts fail (deterministic failure injection for tests and demos).</summary>
    [Range(0, 100)]
    public int FailFirstAttempts { get; set; }

    /// <summary>The simulated provider's latency, upper bound.</summary>
    public TimeSpan MaxLatency { get; set; } = TimeSpan.FromMilliseconds(40);
}

/// <summary>The load simulator.</summary>
internal sealed class SimulatorSettings
{
    /// <summary>Whether the simulator starts with the app.</summary>
    public bool Enabled { get; set; }

    /// <summary>Simulated messages per second, all users together.</summary>
    [Range(0.01, 1_000)]
    public double MessagesPerSecond { get; set; } = 2;

    /// <summary>How many simulated users chat.</summary>
    [Range(1, 100)]
    public int Users { get; set; } = 6;
}
