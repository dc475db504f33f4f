using System.Data.Common;
using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using FlowScope.Embedded.Buffering;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Database;
using Microsoft.Data.Sqlite;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// What recording one database command costs the thread that runs it: a one-parameter query on an in-memory SQLite
/// connection without FlowScope, then through <see cref="FlowScopeDbConnection"/> with FlowScope's listener capturing
/// (span started and stopped, handed to the buffer); and Entity Framework Core's executing/executed callbacks alone
/// (the work FlowScope adds to an EF command), with payloads of EF's shape. The statement is parsed and normalised
/// later, on the pump, and is not part of this cost. For scale, the floor of any design that makes a command an
/// <see cref="Activity"/>: one started and stopped with FlowScope listening. The buffer is drained between iterations.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(Invocations)]
[WarmupCount(5)]
[IterationCount(15)]
public class DatabaseCaptureBenchmarks : IDisposable
{
    private const int Invocations = 1 << 16;
    private const string Statement = "SELECT \"a\".\"Title\" FROM \"Articles\" AS \"a\" WHERE \"a\".\"Id\" = @id";

    private readonly List<Activity> _drained = new(Invocations);
    private SpanBuffer _buffer = null!;
    private ActivityCapture _capture = null!;
    private SqliteConnection _connection = null!;
    private DbCommand _plain = null!;
    private DbCommand _wrapped = null!;
    private DbConnection _wrapper = null!;
    private EntityFrameworkObserver _observer = null!;
    private KeyValuePair<string, object?> _executing;
    private KeyValuePair<string, object?> _executed;

    [GlobalSetup]
    public void GlobalSetup()
    {
        _buffer = new SpanBuffer(Invocations * 4);
        _capture = new ActivityCapture(_buffer, new ActivitySourceFilter([]));
        _capture.Start();
        _connection = new SqliteConnection("Data Source=:memory:");
        _connection.Open();
        using (var create = _connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE Articles (Id INTEGER PRIMARY KEY, Title TEXT); INSERT INTO Articles VALUES (1, 'First');";
            create.ExecuteNonQuery();
        }

        _plain = Command(_connection);
        _wrapper = new SqliteConnection("Data Source=:memory:").WithFlowScope();
        _wrapper.Open();
        using (var create = _wrapper.CreateCommand())
        {
            create.CommandText = "CREATE TABLE Articles (Id INTEGER PRIMARY KEY, Title TEXT); INSERT INTO Articles VALUES (1, 'First');";
            create.ExecuteNonQuery();
        }

        _wrapped = Command(_wrapper);
        _observer = new EntityFrameworkObserver();
        var efCommand = Command(_connection);
        _executing = new("Microsoft.EntityFrameworkCore.Database.Command.CommandExecuting", new CommandEventData(efCommand, 2));
        _executed = new("Microsoft.EntityFrameworkCore.Database.Command.CommandExecuted", new CommandExecutedEventData(efCommand, 2, null));
    }

    private static DbCommand Command(DbConnection connection)
    {
        var command = connection.CreateCommand();
        command.CommandText = Statement;
        var id = command.CreateParameter();
        id.ParameterName = "@id";
        id.Value = 1;
        command.Parameters.Add(id);
        return command;
    }

    [IterationCleanup]
    public void Drain()
    {
        while (_buffer.Drain(_drained, Invocations) > 0)
        {
            _drained.Clear();
        }
    }

    [Benchmark(Baseline = true, Description = "SQLite query, no capture")]
    public object? Plain() => _plain.ExecuteScalar();

    [Benchmark(Description = "SQLite query through FlowScopeDbConnection, captured")]
    public object? Wrapped() => _wrapped.ExecuteScalar();

    /// <summary>The floor of any Activity-based design on this machine: one activity started and stopped, captured.</summary>
    [Benchmark(Description = "An activity started and stopped, captured (the floor)")]
    public Activity? ActivityAlone()
    {
        var activity = DatabaseCommands.Source.StartActivity("sqlite", ActivityKind.Client);
        activity?.Stop();
        return _capture is null ? null : activity;
    }

    [Benchmark(Description = "EF Core executing + executed callbacks alone")]
    public void EntityFrameworkCallbacks()
    {
        _observer.OnNext(_executing);
        _observer.OnNext(_executed);
    }

    public void Dispose()
    {
        _capture.Dispose();
        _plain.Dispose();
        _wrapped.Dispose();
        _connection.Dispose();
        _wrapper.Dispose();
        GC.SuppressFinalize(this);
    }

    // Shaped as Entity Framework Core's CommandEventData / CommandExecutedEventData (read by property name).
    private class CommandEventData(DbCommand command, int executeMethod)
    {
        public DbCommand Command { get; } = command;

        public int ExecuteMethod { get; } = executeMethod;
    }

    private sealed class CommandExecutedEventData(DbCommand command, int executeMethod, object? result) : CommandEventData(command, executeMethod)
    {
        public object? Result { get; } = result;
    }
}
