using System.Data.Common;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace FlowScope.Embedded.IntegrationTests.Database;

/// <summary>
/// Makes SQLite behave like Npgsql under EF Core: a provider that reports each command on an activity source of its
/// own (named "Npgsql", with OpenTelemetry's database attributes) while EF Core reports the same command. The span
/// is made inside EF Core's command, as Npgsql's is.
/// </summary>
internal sealed class NpgsqlLikeSpans : DbCommandInterceptor
{
    public static readonly ActivitySource Source = new("Npgsql");

    public static int Made;

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        Report(command);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        Report(command);
        return result;
    }

    private static void Report(DbCommand command)
    {
        using var activity = Source.StartActivity("postgres", ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("db.system.name", "postgresql");
            activity.SetTag("db.query.text", command.CommandText);
            Interlocked.Increment(ref Made);
        }
    }
}
