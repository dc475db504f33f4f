using Microsoft.EntityFrameworkCore;

namespace FlowScope.Samples.Messenger.Storage.Sqlite;

/// <summary>
/// The default storage: a SQLite file through EF Core. <c>Messenger:Database</c> names the file; left empty, each run
/// gets a new file in the temp folder, deleted when the app stops.
/// </summary>
internal static class SqliteRegistration
{
    public static void AddSqliteBackend(IServiceCollection services, string? configuredPath)
    {
        var database = SqliteDatabase.Create(configuredPath);
        services.AddSingleton(database);
        services.AddPooledDbContextFactory<MessengerDb>(o => o.UseSqlite(database.ConnectionString));
        services.AddSingleton<IUserStore, SqliteUserStore>();
        services.AddSingleton<IChatStore, SqliteChatStore>();
        // Before the room seeder (hosted services start in registration order).
        services.AddHostedService<SqliteSchema>();
    }
}
