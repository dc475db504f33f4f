using Microsoft.Extensions.Logging;

namespace FlowScope.Embedded.IntegrationTests.Privacy;

/// <summary>Keeps every log entry the app writes (category, formatted message, structured state): the app's own log output.</summary>
internal sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly List<Entry> _entries = [];

    public sealed record Entry(string Category, string Message, IReadOnlyList<KeyValuePair<string, string?>> State)
    {
        public string Text => Message + " " + string.Join(" ", State.Select(p => p.Key + "=" + p.Value));
    }

    public IReadOnlyList<Entry> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IEnumerable<Entry> Of(string category) => Entries.Where(e => e.Category == category);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(RecordingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var pairs = state is IEnumerable<KeyValuePair<string, object?>> list
                ? list.Select(p => KeyValuePair.Create(p.Key, p.Value?.ToString())).ToList()
                : [];
            lock (owner._entries)
            {
                owner._entries.Add(new Entry(category, formatter(state, exception), pairs));
            }
        }
    }
}
