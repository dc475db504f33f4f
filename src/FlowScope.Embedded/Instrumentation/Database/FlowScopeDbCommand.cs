using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;

namespace FlowScope.Embedded.Database;

/// <summary>The command of a <see cref="FlowScopeDbConnection"/>: runs the provider's command and records it.</summary>
internal sealed class FlowScopeDbCommand : DbCommand
{
    private FlowScopeDbConnection? _connection;

    public FlowScopeDbCommand(DbCommand inner, FlowScopeDbConnection connection)
    {
        Inner = inner;
        _connection = connection;
    }

    public DbCommand Inner { get; }

    [AllowNull]
    public override string CommandText
    {
        get => Inner.CommandText;
        set => Inner.CommandText = value;
    }

    public override int CommandTimeout
    {
        get => Inner.CommandTimeout;
        set => Inner.CommandTimeout = value;
    }

    public override CommandType CommandType
    {
        get => Inner.CommandType;
        set => Inner.CommandType = value;
    }

    public override bool DesignTimeVisible
    {
        get => Inner.DesignTimeVisible;
        set => Inner.DesignTimeVisible = value;
    }

    public override UpdateRowSource UpdatedRowSource
    {
        get => Inner.UpdatedRowSource;
        set => Inner.UpdatedRowSource = value;
    }

    protected override DbConnection? DbConnection
    {
        get => _connection;
        set
        {
            _connection = value as FlowScopeDbConnection;
            Inner.Connection = value is FlowScopeDbConnection wrapper ? wrapper.Inner : value;
        }
    }

    protected override DbParameterCollection DbParameterCollection => Inner.Parameters;

    protected override DbTransaction? DbTransaction
    {
        get => Inner.Transaction;
        set => Inner.Transaction = value;
    }

    public override void Cancel() => Inner.Cancel();

    public override void Prepare() => Inner.Prepare();

    protected override DbParameter CreateDbParameter() => Inner.CreateParameter();

    public override int ExecuteNonQuery()
    {
        var recording = DatabaseCommands.Start(this, DatabaseCommands.Owner.Wrapper);
        try
        {
            var rows = Inner.ExecuteNonQuery();
            End(recording, rows);
            return rows;
        }
        catch (Exception ex) when (Fail(recording, ex))
        {
            throw;
        }
    }

    public override object? ExecuteScalar()
    {
        var recording = DatabaseCommands.Start(this, DatabaseCommands.Owner.Wrapper);
        try
        {
            var result = Inner.ExecuteScalar();
            End(recording, -1);
            return result;
        }
        catch (Exception ex) when (Fail(recording, ex))
        {
            throw;
        }
    }

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior)
    {
        var recording = DatabaseCommands.Start(this, DatabaseCommands.Owner.Wrapper);
        try
        {
            var reader = Inner.ExecuteReader(behavior);
            End(recording, -1);
            return reader;
        }
        catch (Exception ex) when (Fail(recording, ex))
        {
            throw;
        }
    }

    public override async Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken)
    {
        var recording = DatabaseCommands.Start(this, DatabaseCommands.Owner.Wrapper);
        try
        {
            var rows = await Inner.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            End(recording, rows);
            return rows;
        }
        catch (Exception ex) when (Fail(recording, ex))
        {
            throw;
        }
    }

    public override async Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken)
    {
        var recording = DatabaseCommands.Start(this, DatabaseCommands.Owner.Wrapper);
        try
        {
            var result = await Inner.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            End(recording, -1);
            return result;
        }
        catch (Exception ex) when (Fail(recording, ex))
        {
            throw;
        }
    }

    protected override async Task<DbDataReader> ExecuteDbDataReaderAsync(CommandBehavior behavior, CancellationToken cancellationToken)
    {
        var recording = DatabaseCommands.Start(this, DatabaseCommands.Owner.Wrapper);
        try
        {
            var reader = await Inner.ExecuteReaderAsync(behavior, cancellationToken).ConfigureAwait(false);
            End(recording, -1);
            return reader;
        }
        catch (Exception ex) when (Fail(recording, ex))
        {
            throw;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private void End(bool recording, int rows)
    {
        if (recording)
        {
            DatabaseCommands.Stop(this, DatabaseCommands.Owner.Wrapper, rows);
        }
    }

    // An exception filter: the provider's exception is recorded and rethrown untouched (stack trace unchanged).
    private bool Fail(bool recording, Exception exception)
    {
        if (recording)
        {
            DatabaseCommands.Stop(this, DatabaseCommands.Owner.Wrapper, error: exception);
        }

        return false;
    }
}
