using System.Data.Common;
using System.Globalization;
using FlowScope.Embedded.Workers.Internal;

namespace FlowScope.Embedded.Database;

/// <summary>
/// Entity Framework Core's command events, from its <c>Microsoft.EntityFrameworkCore</c> diagnostic listener:
/// executing starts a command's span, executed / error / canceled end it. The payloads (<c>CommandEventData</c> and
/// its kin) are read by property name.
/// </summary>
internal sealed class EntityFrameworkObserver : IObserver<KeyValuePair<string, object?>>
{
    public const string ListenerName = "Microsoft.EntityFrameworkCore";

    private const string Executing = "Microsoft.EntityFrameworkCore.Database.Command.CommandExecuting";
    private const string Executed = "Microsoft.EntityFrameworkCore.Database.Command.CommandExecuted";
    private const string Failed = "Microsoft.EntityFrameworkCore.Database.Command.CommandError";
    private const string Canceled = "Microsoft.EntityFrameworkCore.Database.Command.CommandCanceled";

    // DbCommandMethod.NonQuery: its result is the number of rows affected.
    private const int NonQuery = 0;

    private readonly PayloadProperty _executingCommand = new("Command");
    private readonly PayloadProperty _executedCommand = new("Command");
    private readonly PayloadProperty _executedMethod = new("ExecuteMethod");
    private readonly PayloadProperty _executedResult = new("Result");
    private readonly PayloadProperty _failedCommand = new("Command");
    private readonly PayloadProperty _failedException = new("Exception");
    private readonly PayloadProperty _canceledCommand = new("Command");

    /// <summary>Only the command events are asked for, so Entity Framework builds no other payload for FlowScope.</summary>
    public static bool IsEnabled(string name) => name is Executing or Executed or Failed or Canceled;

    public void OnNext(KeyValuePair<string, object?> value)
    {
        try
        {
            switch (value.Key)
            {
                case Executing:
                    if (_executingCommand.Read(value.Value) is DbCommand command)
                    {
                        DatabaseCommands.Start(command, DatabaseCommands.Owner.EntityFramework);
                    }

                    break;
                case Executed:
                    if (_executedCommand.Read(value.Value) is DbCommand executed)
                    {
                        var rows = _executedResult.Read(value.Value) is int affected
                            && _executedMethod.Read(value.Value) is IConvertible method && method.ToInt32(CultureInfo.InvariantCulture) == NonQuery
                            ? affected : -1;
                        DatabaseCommands.Stop(executed, DatabaseCommands.Owner.EntityFramework, rows);
                    }

                    break;
                case Failed:
                    if (_failedCommand.Read(value.Value) is DbCommand failed)
                    {
                        DatabaseCommands.Stop(failed, DatabaseCommands.Owner.EntityFramework, error: _failedException.Read(value.Value) as Exception);
                    }

                    break;
                case Canceled:
                    if (_canceledCommand.Read(value.Value) is DbCommand canceled)
                    {
                        DatabaseCommands.Stop(canceled, DatabaseCommands.Owner.EntityFramework, error: new OperationCanceledException("The command was canceled."));
                    }

                    break;
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
