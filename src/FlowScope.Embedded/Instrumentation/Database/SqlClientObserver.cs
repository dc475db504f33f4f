using System.Data.Common;
using FlowScope.Embedded.Workers.Internal;

namespace FlowScope.Embedded.Database;

/// <summary>
/// Microsoft.Data.SqlClient's (and System.Data.SqlClient's) command events, from its <c>SqlClientDiagnosticListener</c>:
/// <c>WriteCommandBefore</c> starts a command's span, <c>WriteCommandAfter</c> / <c>WriteCommandError</c> end it. A
/// command Entity Framework Core already records is left to it.
/// </summary>
internal sealed class SqlClientObserver : IObserver<KeyValuePair<string, object?>>
{
    public const string ListenerName = "SqlClientDiagnosticListener";

    private const string Before = ".WriteCommandBefore";
    private const string After = ".WriteCommandAfter";
    private const string Failed = ".WriteCommandError";

    private readonly PayloadProperty _beforeCommand = new("Command");
    private readonly PayloadProperty _afterCommand = new("Command");
    private readonly PayloadProperty _failedCommand = new("Command");
    private readonly PayloadProperty _failedException = new("Exception");

    public static bool IsEnabled(string name) =>
        IsSqlClientEvent(name) && (name.EndsWith(Before, StringComparison.Ordinal) || name.EndsWith(After, StringComparison.Ordinal) || name.EndsWith(Failed, StringComparison.Ordinal));

    private static bool IsSqlClientEvent(string name) =>
        name.StartsWith("Microsoft.Data.SqlClient.", StringComparison.Ordinal) || name.StartsWith("System.Data.SqlClient.", StringComparison.Ordinal);

    public void OnNext(KeyValuePair<string, object?> value)
    {
        try
        {
            var name = value.Key;
            if (!IsSqlClientEvent(name))
            {
                return;
            }

            if (name.EndsWith(Before, StringComparison.Ordinal))
            {
                if (_beforeCommand.Read(value.Value) is DbCommand command)
                {
                    DatabaseCommands.Start(command, DatabaseCommands.Owner.SqlClient);
                }
            }
            else if (name.EndsWith(After, StringComparison.Ordinal))
            {
                if (_afterCommand.Read(value.Value) is DbCommand command)
                {
                    DatabaseCommands.Stop(command, DatabaseCommands.Owner.SqlClient);
                }
            }
            else if (name.EndsWith(Failed, StringComparison.Ordinal) && _failedCommand.Read(value.Value) is DbCommand command)
            {
                DatabaseCommands.Stop(command, DatabaseCommands.Owner.SqlClient, error: _failedException.Read(value.Value) as Exception);
            }
        }
        catch (Exception ex)
        {
            InstrumentationFailures.Report("database", ex);
        }
    }

    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }
}
