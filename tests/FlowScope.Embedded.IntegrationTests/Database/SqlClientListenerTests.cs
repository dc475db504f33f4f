using System.Diagnostics;
using Microsoft.Data.SqlClient;

namespace FlowScope.Embedded.IntegrationTests.Database;

/// <summary>
/// SqlClient's diagnostic listener, raised by hand with payloads of the same shape (Microsoft.Data.SqlClient's
/// <c>WriteCommandBefore/After/Error</c>: OperationId, Operation, ConnectionId, Command, Exception, Timestamp). Not
/// tested against a real SQL Server.
/// </summary>
public sealed class SqlClientListenerTests
{
    [Fact]
    public async Task SqlClient_commands_become_database_spans_and_errors_keep_the_servers_message()
    {
        await using var app = await TestApp.StartAsync();
        using var listener = new DiagnosticListener("SqlClientDiagnosticListener");
        var connection = new SqlConnection();
        string traceId;
        using (var request = TestApp.Source.StartActivity("checkout"))
        {
            traceId = request!.TraceId.ToHexString();
            var ok = (SqlCommand)connection.CreateCommand();
            ok.CommandText = "SELECT [o].[Id] FROM [Orders] AS [o] WHERE [o].[CustomerId] = @customer";
            Raise(listener, "WriteCommandBefore", ok);
            Raise(listener, "WriteCommandAfter", ok);

            var failing = (SqlCommand)connection.CreateCommand();
            failing.CommandText = "UPDATE [Stock] SET [Count] = [Count] - 1 WHERE [Id] = @id";
            Raise(listener, "WriteCommandBefore", failing);
            Raise(listener, "WriteCommandError", failing, new InvalidOperationException("Deadlock victim (1205)."));
        }

        await app.WaitForTraceAsync(t => t.TraceId == traceId && t.DatabaseCount == 2, "two SqlClient commands");
        var spans = await app.Store.GetTraceAsync(traceId);
        var commands = spans!.Spans.Where(s => s.Component == "database").OrderBy(s => s.StartTime).ToList();
        Assert.Equal(2, commands.Count);
        Assert.All(commands, c => Assert.Equal("microsoft.sql_server", c.GetAttribute("db.system.name")));
        Assert.All(commands, c => Assert.Equal("Shop", c.GetAttribute("db.namespace")));
        Assert.Equal("SELECT Orders", commands[0].Name);
        Assert.Equal("UPDATE Stock", commands[1].Name);
        Assert.Equal("Deadlock victim (1205).", commands[1].StatusMessage);
    }

    [Fact]
    public async Task A_command_Entity_Framework_reports_is_not_recorded_again_from_SqlClient()
    {
        await using var app = await TestApp.StartAsync();
        using var ef = new DiagnosticListener("Microsoft.EntityFrameworkCore");
        using var sqlClient = new DiagnosticListener("SqlClientDiagnosticListener");
        var command = (SqlCommand)new SqlConnection().CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM [Orders]";
        string traceId;
        using (var request = TestApp.Source.StartActivity("count orders"))
        {
            traceId = request!.TraceId.ToHexString();
            ef.Write("Microsoft.EntityFrameworkCore.Database.Command.CommandExecuting", new { Command = command, ExecuteMethod = 1 });
            Raise(sqlClient, "WriteCommandBefore", command);
            Raise(sqlClient, "WriteCommandAfter", command);
            ef.Write("Microsoft.EntityFrameworkCore.Database.Command.CommandExecuted", new { Command = command, ExecuteMethod = 1, Result = (object)3L });
        }

        var summary = await app.WaitForTraceAsync(t => t.TraceId == traceId && t.DatabaseCount > 0, "the command");
        Assert.Equal(1, summary.DatabaseCount);
    }

    private static void Raise(DiagnosticListener listener, string name, SqlCommand command, Exception? exception = null)
    {
        var fullName = "Microsoft.Data.SqlClient." + name;
        if (!listener.IsEnabled(fullName))
        {
            return;
        }

        if (exception is null)
        {
            listener.Write(fullName, new { OperationId = Guid.NewGuid(), Operation = "ExecuteReader", ConnectionId = Guid.NewGuid(), Command = command, Timestamp = Stopwatch.GetTimestamp() });
        }
        else
        {
            listener.Write(fullName, new { OperationId = Guid.NewGuid(), Operation = "ExecuteNonQuery", ConnectionId = Guid.NewGuid(), Command = command, Exception = exception, Timestamp = Stopwatch.GetTimestamp() });
        }
    }
}
