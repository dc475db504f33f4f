namespace FlowScope.Samples.Messenger.Storage;

/// <summary>Where users are kept: in SQLite by default, in Redis when <c>ConnectionStrings:Redis</c> is set.</summary>
internal interface IUserStore
{
    /// <summary>
    /// The storage's name, recorded as <c>db.system</c> on a hand-made storage span; <see langword="null"/> when
    /// FlowScope records the store's commands itself (EF Core), so no hand-made span is needed.
    /// </summary>
    string? System { get; }

    Task<bool> TryAddAsync(UserAccount user);

    /// <summary>Adds every account whose name is free, in one round trip (set-up work: the simulator's users).</summary>
    Task AddManyAsync(IReadOnlyCollection<UserAccount> users);

    Task<UserAccount?> FindAsync(string userName);

    Task<IReadOnlyList<string>> ListAsync();
}

/// <summary>Rooms, memberships and message history.</summary>
internal interface IChatStore
{
    /// <inheritdoc cref="IUserStore.System"/>
    string? System { get; }

    Task<IReadOnlyList<RoomInfo>> RoomsAsync();

    /// <summary>Every room with its member count (people, not the bot) and whether <paramref name="user"/> is a member, in one round trip.</summary>
    Task<IReadOnlyList<RoomSummary>> RoomSummariesAsync(string user);

    Task<RoomInfo?> FindRoomAsync(string name);

    Task<bool> TryCreateRoomAsync(RoomInfo room);

    /// <summary>Creates every room that does not exist yet, in one round trip.</summary>
    Task CreateRoomsAsync(IReadOnlyCollection<RoomInfo> rooms);

    /// <summary>Makes every one of <paramref name="users"/> a member of every existing room of <paramref name="rooms"/>, in one round trip.</summary>
    Task JoinAllAsync(IReadOnlyCollection<string> rooms, IReadOnlyCollection<string> users);

    /// <summary>Adds a member; <see langword="false"/> when the room does not exist.</summary>
    Task<bool> JoinAsync(string room, string user);

    Task<IReadOnlyList<string>> MembersAsync(string room);

    Task<bool> IsMemberAsync(string room, string user);

    Task<ChatMessage> AppendAsync(string room, string author, string text, string? clientId, string? traceId);

    /// <summary>The newest <paramref name="limit"/> messages older than <paramref name="before"/>, oldest first.</summary>
    Task<IReadOnlyList<ChatMessage>> HistoryAsync(string room, long? before, int limit);

    Task RecordDeliveryAsync(string room, long messageId, IReadOnlyCollection<string> users);
}
