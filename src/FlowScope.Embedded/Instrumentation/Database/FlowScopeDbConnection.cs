using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace FlowScope.Embedded.Database;

/// <summary>
/// A <see cref="DbConnection"/> that records every command run through it as a <c>database</c> span, for ADO.NET
/// providers that report nothing themselves (Microsoft.Data.Sqlite used directly or under Dapper, for example).
/// Everything else is the wrapped connection's: state, transactions, parameters, readers. A command that Entity
/// Framework Core or SqlClient already reports is recorded once.
/// </summary>
/// <example><code>using var connection = new SqliteConnection("Data Source=app.db").WithFlowScope();</code></example>
public sealed class FlowScopeDbConnection : DbConnection
{
    /// <summary>Wraps <paramref name="inner"/>; disposing this connection disposes it.</summary>
    /// <param name="inner">The provider's connection.</param>
    public FlowScopeDbConnection(DbConnection inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
        inner.StateChange += OnInnerStateChange;
    }

    /// <summary>Gets the wrapped connection.</summary>
    public DbConnection Inner { get; }

    /// <inheritdoc />
    [AllowNull]
    public override string ConnectionString
    {
        get => Inner.ConnectionString;
        set => Inner.ConnectionString = value;
    }

    /// <inheritdoc />
    public override int ConnectionTimeout => Inner.ConnectionTimeout;

    /// <inheritdoc />
    public override string Database => Inner.Database;

    /// <inheritdoc />
    public override string DataSource => Inner.DataSource;

    /// <inheritdoc />
    public override string ServerVersion => Inner.ServerVersion;

    /// <inheritdoc />
    public override ConnectionState State => Inner.State;

    /// <inheritdoc />
    public override void ChangeDatabase(string databaseName) => Inner.ChangeDatabase(databaseName);

    /// <inheritdoc />
    public override void Close() => Inner.Close();

    /// <inheritdoc />
    public override void Open() => Inner.Open();

    /// <inheritdoc />
    public override Task OpenAsync(CancellationToken cancellationToken) => Inner.OpenAsync(cancellationToken);

    /// <inheritdoc />
    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => Inner.BeginTransaction(isolationLevel);

    /// <inheritdoc />
    protected override DbCommand CreateDbCommand() => new FlowScopeDbCommand(Inner.CreateCommand(), this);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Inner.StateChange -= OnInnerStateChange;
            Inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private void OnInnerStateChange(object sender, StateChangeEventArgs e) => OnStateChange(e);
}
