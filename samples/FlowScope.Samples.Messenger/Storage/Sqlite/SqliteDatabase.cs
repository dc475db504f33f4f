using Microsoft.Data.Sqlite;

namespace FlowScope.Samples.Messenger.Storage.Sqlite;

/// <summary>Where the database file is, and whether this run owns it (a temp file, deleted at stop).</summary>
internal sealed class SqliteDatabase
{
    private SqliteDatabase(string path, bool temporary)
    {
        Path = path;
        Temporary = temporary;
        ConnectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
    }

    public string Path { get; }

    public bool Temporary { get; }

    public string ConnectionString { get; }

    public static SqliteDatabase Create(string? configuredPath) =>
        string.IsNullOrWhiteSpace(configuredPath)
            ? new SqliteDatabase(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"flowscope-messenger-{Environment.ProcessId}-{Guid.NewGuid():N}.db"), temporary: true)
            : new SqliteDatabase(System.IO.Path.GetFullPath(configuredPath), temporary: false);
}
