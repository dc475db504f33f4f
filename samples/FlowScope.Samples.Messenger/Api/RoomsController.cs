using FlowScope.Samples.Messenger.Realtime;
using FlowScope.Samples.Messenger.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace FlowScope.Samples.Messenger.Api;

/// <summary>Rooms, their members and their history.</summary>
[ApiController]
[Authorize]
[Route("api/rooms")]
[EnableRateLimiting(RateLimits.Api)]
internal sealed class RoomsController : ControllerBase
{
    private readonly IChatStore _store;
    private readonly IPresenceDirectory _presence;
    private readonly TimeProvider _time;
    private readonly bool _fixNPlusOne;

    public RoomsController(IChatStore store, IPresenceDirectory presence, TimeProvider time, IOptionsSnapshot<MessengerOptions> options)
    {
        _store = store;
        _presence = presence;
        _time = time;
        _fixNPlusOne = options.Value.FixNPlusOne;
    }

    private string Me => User.Identity!.Name!;

    /// <summary>
    /// Every room, with its member count and whether the caller is in it. With <c>Messenger:FixNPlusOne</c> false
    /// (the default) it asks the database once per room — a deliberate N+1 for FlowScope's dashboard to flag.
    /// </summary>
    [HttpGet]
    public async Task<IEnumerable<RoomView>> List()
    {
        if (_fixNPlusOne)
        {
            var summaries = await _store.RoomSummariesAsync(Me);
            return summaries.Select(s => new RoomView(s.Name, s.Topic, s.Members, s.Joined));
        }

        var rooms = await _store.RoomsAsync();
        var views = new List<RoomView>(rooms.Count);
        foreach (var room in rooms)
        {
            var members = await _store.MembersAsync(room.Name);
            views.Add(new RoomView(room.Name, room.Topic, members.Count(m => !AccountService.Reserved.Contains(m)), members.Contains(Me)));
        }

        return views;
    }

    /// <summary>Creates a room; its creator is its first member.</summary>
    [HttpPost]
    public async Task<IActionResult> Create(NewRoom room)
    {
        var info = new RoomInfo(room.Name, room.Topic?.Trim() ?? "", _time.GetUtcNow());
        if (!await _store.TryCreateRoomAsync(info))
        {
            return Problem(statusCode: StatusCodes.Status409Conflict, title: "Room exists", detail: $"There is already a room '{room.Name}'.");
        }

        await _store.JoinAllAsync([info.Name], [Me, Pipeline.BotWorker.UserName]);
        return CreatedAtAction(nameof(Members), new { room = info.Name }, new RoomView(info.Name, info.Topic, 1, true));
    }

    [HttpPost("{room}/join")]
    [RoomExists]
    public async Task<IActionResult> Join(string room)
    {
        await _store.JoinAsync(room, Me);
        return Ok(new { room, joined = true });
    }

    [HttpGet("{room}/members")]
    [RoomExists]
    public async Task<IEnumerable<UserView>> Members(string room)
    {
        var members = await _store.MembersAsync(room);
        var online = await _presence.OnlineAsync(members);
        return members.Select(m => new UserView(m, m == Pipeline.BotWorker.UserName || online.Contains(m)));
    }

    /// <summary>The room's messages, oldest first; page back with <c>before</c>. Members only.</summary>
    [HttpGet("{room}/messages")]
    [RoomExists]
    public async Task<IActionResult> History(string room, [FromQuery] HistoryQuery query)
    {
        if (!await _store.IsMemberAsync(room, Me))
        {
            return Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not a member", detail: $"Join '{room}' to read it.");
        }

        var messages = await _store.HistoryAsync(room, query.Before, query.Limit);
        return Ok(messages.Select(m => new MessageView(m.Id, m.Room, m.Author, m.Text, m.SentAt, m.TraceId, m.DeliveredTo)));
    }
}

/// <summary>Everybody, with presence.</summary>
[ApiController]
[Authorize]
[Route("api/users")]
[EnableRateLimiting(RateLimits.Api)]
internal sealed class UsersController : ControllerBase
{
    private readonly IUserStore _users;
    private readonly IPresenceDirectory _presence;

    public UsersController(IUserStore users, IPresenceDirectory presence)
    {
        _users = users;
        _presence = presence;
    }

    [HttpGet]
    public async Task<IEnumerable<UserView>> List()
    {
        var users = await _users.ListAsync();
        var online = await _presence.OnlineAsync(users);
        return users.Select(u => new UserView(u, online.Contains(u)));
    }
}
