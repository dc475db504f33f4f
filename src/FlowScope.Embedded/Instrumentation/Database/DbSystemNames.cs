using System.Collections.Concurrent;

namespace FlowScope.Embedded.Database;

/// <summary>
/// The OpenTelemetry <c>db.system.name</c> of an ADO.NET provider, told by the namespace of its command type (no
/// reference to any provider package).
/// </summary>
internal static class DbSystemNames
{
    private static readonly ConcurrentDictionary<Type, string> s_byType = new();

    private static readonly (string Prefix, string System)[] s_known =
    [
        ("Microsoft.Data.Sqlite", "sqlite"),
        ("System.Data.SQLite", "sqlite"),
        ("Microsoft.Data.SqlClient", "microsoft.sql_server"),
        ("System.Data.SqlClient", "microsoft.sql_server"),
        ("Npgsql", "postgresql"),
        ("MySqlConnector", "mysql"),
        ("MySql.Data", "mysql"),
        ("Oracle.ManagedDataAccess", "oracle.db"),
        ("Oracle.DataAccess", "oracle.db"),
        ("FirebirdSql", "firebirdsql"),
        ("IBM.Data.Db2", "ibm.db2"),
        ("Snowflake.Data", "snowflake"),
        ("DuckDB", "duckdb"),
    ];

    /// <summary>Gets the system name for a command of type <paramref name="commandType"/> (<c>other_sql</c> when unknown).</summary>
    public static string Of(Type commandType) => s_byType.GetOrAdd(commandType, static t => Find(t.FullName ?? t.Name));

    /// <summary>Maps an Entity Framework Core provider name (<c>Microsoft.EntityFrameworkCore.Sqlite</c>) or a type name.</summary>
    internal static string Find(string name)
    {
        foreach (var (prefix, system) in s_known)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return system;
            }
        }

        return "other_sql";
    }
}
