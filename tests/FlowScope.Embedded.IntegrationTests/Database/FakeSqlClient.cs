using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

// Stand-ins with Microsoft.Data.SqlClient's type names, so FlowScope tells the system from the command's type as it
// does for the real provider (the library holds no reference to it). No SQL Server is involved.
namespace Microsoft.Data.SqlClient;

internal sealed class SqlConnection : DbConnection
{
    [AllowNull]
    public override string ConnectionString { get; set; } = "Server=db.example;Database=Shop";

    public override string Database => "Shop";

    public override string DataSource => "db.example";

    public override string ServerVersion => "16.0";

    public override ConnectionState State => ConnectionState.Open;

    public override void ChangeDatabase(string databaseName) => throw new NotSupportedException();

    public override void Close()
    {
    }

    public override void Open()
    {
    }

    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => throw new NotSupportedException();

    protected override DbCommand CreateDbCommand() => new SqlCommand { Connection = this };
}

internal sealed class SqlCommand : DbCommand
{
    private readonly Sqlite.SqliteCommand _parameters = new();

    [AllowNull]
    public override string CommandText { get; set; } = "";

    public override int CommandTimeout { get; set; }

    public override CommandType CommandType { get; set; }

    public override bool DesignTimeVisible { get; set; }

    public override UpdateRowSource UpdatedRowSource { get; set; }

    protected override DbConnection? DbConnection { get; set; }

    protected override DbParameterCollection DbParameterCollection => _parameters.Parameters;

    protected override DbTransaction? DbTransaction { get; set; }

    public override void Cancel()
    {
    }

    public override int ExecuteNonQuery() => throw new NotSupportedException();

    public override object? ExecuteScalar() => throw new NotSupportedException();

    public override void Prepare()
    {
    }

    protected override DbParameter CreateDbParameter() => _parameters.CreateParameter();

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) => throw new NotSupportedException();
}
