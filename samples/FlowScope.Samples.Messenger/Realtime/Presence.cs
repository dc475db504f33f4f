namespace FlowScope.Samples.Messenger.Realtime;

/// <summary>Who is connected anywhere: this instance's sockets, plus the other instances' when they share Redis.</summary>
internal interface IPresenceDirectory
{
    /// <summary>The users among <paramref name="users"/> with at least one open socket on some instance.</summary>
    Task<IReadOnlySet<string>> OnlineAsync(IEnumerable<string> users);
}

/// <summary>One instance: presence is this instance's sockets.</summary>
internal sealed class LocalPresence(ConnectionRegistry connections) : IPresenceDirectory
{
    public Task<IReadOnlySet<string>> OnlineAsync(IEnumerable<string> users) =>
        Task.FromResult<IReadOnlySet<string>>(users.Where(connections.IsOnline).ToHashSet(StringComparer.Ordinal));
}
