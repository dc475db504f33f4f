using System.Globalization;

namespace FlowScope.Samples.Messenger.Storage.Sqlite;

/// <summary>Values written by hand-made statements in the form EF Core's SQLite provider writes and reads them.</summary>
internal static class SqliteText
{
    public static string Of(DateTimeOffset value) => value.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture);
}
