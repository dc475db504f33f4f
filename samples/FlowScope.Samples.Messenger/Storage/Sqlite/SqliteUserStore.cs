using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace FlowScope.Samples.Messenger.Storage.Sqlite;

/// <summary>Users in the SQLite database, through EF Core.</summary>
internal sealed class SqliteUserStore(IDbContextFactory<MessengerDb> contexts) : IUserStore
{
    public string? System => null;

    public async Task<bool> TryAddAsync(UserAccount user)
    {
        await using var db = await contexts.CreateDbContextAsync();
        // One statement that tells "added" from "taken" without an exception.
        var added = await db.Database.ExecuteSqlAsync(
            $"INSERT OR IGNORE INTO Users (UserName, PasswordHash, CreatedAt) VALUES ({user.UserName}, {user.PasswordHash}, {user.CreatedAt})");
        return added == 1;
    }

    public async Task AddManyAsync(IReadOnlyCollection<UserAccount> users)
    {
        await using var db = await contexts.CreateDbContextAsync();
        var rows = JsonSerializer.Serialize(users.Select(u => new[] { u.UserName, u.PasswordHash, SqliteText.Of(u.CreatedAt) }));
        await db.Database.ExecuteSqlAsync(
            $"INSERT OR IGNORE INTO Users (UserName, PasswordHash, CreatedAt) SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each({rows})");
    }

    public async Task<UserAccount?> FindAsync(string userName)
    {
        await using var db = await contexts.CreateDbContextAsync();
        return await db.Users.AsNoTracking()
            .Where(u => u.UserName == userName)
            .Select(u => new UserAccount(u.UserName, u.PasswordHash, u.CreatedAt))
            .SingleOrDefaultAsync();
    }

    public async Task<IReadOnlyList<string>> ListAsync()
    {
        await using var db = await contexts.CreateDbContextAsync();
        return await db.Users.AsNoTracking().OrderBy(u => u.UserName).Select(u => u.UserName).ToListAsync();
    }
}
