using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace FlowScope.Samples.Messenger.Storage.Sqlite;

/// <summary>Creates the schema when the app starts (nothing to install or migrate) and removes a temporary file at stop.</summary>
internal sealed partial class SqliteSchema(IDbContextFactory<MessengerDb> contexts, SqliteDatabase database, ILogger<SqliteSchema> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var directory = System.IO.Path.GetDirectoryName(database.Path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        // One trace for the schema's commands rather than one per command.
        using var span = Infrastructure.MessengerTelemetry.StartRoot("create schema");
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Database.EnsureCreatedAsync(cancellationToken);
        // Readers do not wait for the writer (the socket, the workers and the API all use the file at once).
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        LogReady(logger, database.Path);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (database.Temporary)
        {
            SqliteConnection.ClearAllPools();
            foreach (var file in new[] { database.Path, database.Path + "-wal", database.Path + "-shm" })
            {
                try
                {
                    File.Delete(file);
                }
                catch (IOException ex)
                {
                    LogNotDeleted(logger, ex, file);
                }
            }
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 50, Level = LogLevel.Information, Message = "Messenger database: {Path}")]
    private static partial void LogReady(ILogger logger, string path);

    [LoggerMessage(EventId = 51, Level = LogLevel.Warning, Message = "The temporary database file {Path} could not be deleted")]
    private static partial void LogNotDeleted(ILogger logger, Exception exception, string path);
}
