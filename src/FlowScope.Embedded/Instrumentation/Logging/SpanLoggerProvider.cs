using System.Diagnostics;
using System.Globalization;
using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Instrumentation.Logging;

/// <summary>
/// Turns <c>ILogger</c> entries written while a captured span is current into events of that span (level,
/// category, message, structured state, exception), capped. Entries go to FlowScope's side of the span, never into
/// <see cref="Activity.Events"/>, so exported spans are unchanged. Costs one level check and one
/// <see cref="Activity.Current"/> read for entries it does not record.
/// <para>
/// Framework categories (<c>Microsoft.*</c> and <c>System.*</c>) are recorded from <see cref="LogLevel.Warning"/>
/// up by default: at Information ASP.NET Core, MVC and HttpClient write several entries per request ("Request
/// starting", "Executing endpoint", "Sending HTTP request", …) that repeat what the spans and stages already show,
/// and formatting them cost more than the rest of FlowScope's request path together. An app that wants them
/// configures FlowScope's provider explicitly (any <c>Logging:FlowScope:LogLevel</c> entry, e.g.
/// <c>"Logging:FlowScope:LogLevel:Microsoft.AspNetCore": "Information"</c>) or sets
/// <see cref="FlowScopeOptions.MinimumLogLevel"/> below Information.
/// </para>
/// </summary>
[ProviderAlias("FlowScope")]
internal sealed class SpanLoggerProvider : ILoggerProvider
{
    private readonly LogLevel _minimum;
    private readonly int _maxEvents;
    private readonly int _maxValueLength;
    private readonly int _maxAttributes;
    private readonly Redactor _redactor;
    private readonly LogLevel _frameworkMinimum;

    public SpanLoggerProvider(IOptions<FlowScopeOptions> options, Redactor redactor, IOptions<LoggerFilterOptions>? filters = null)
    {
        _redactor = redactor;
        var value = options.Value;
        _minimum = value.Enabled ? value.MinimumLogLevel : LogLevel.None;
        _frameworkMinimum = _minimum < LogLevel.Information || ConfiguresFlowScope(filters?.Value)
            ? _minimum
            : (LogLevel)Math.Max((int)_minimum, (int)LogLevel.Warning);
        _maxEvents = value.MaxEventsPerSpan;
        _maxValueLength = value.MaxAttributeValueLength;
        _maxAttributes = value.MaxAttributesPerSpan;
    }

    // FlowScope's own entries are written outside captured spans (its flows are suppressed), so need no filter here.
    public ILogger CreateLogger(string categoryName) =>
        new SpanLogger(this, categoryName, IsFrameworkCategory(categoryName) ? _frameworkMinimum : _minimum);

    /// <summary>Whether a category belongs to .NET or ASP.NET Core rather than to the app.</summary>
    internal static bool IsFrameworkCategory(string category) =>
        category.StartsWith("Microsoft.", StringComparison.Ordinal) || category.StartsWith("System.", StringComparison.Ordinal)
        || category is "Microsoft" or "System";

    /// <summary>Whether the app's logging configuration has rules for FlowScope's provider (alias or type name).</summary>
    private static bool ConfiguresFlowScope(LoggerFilterOptions? filters)
    {
        if (filters is null)
        {
            return false;
        }

        foreach (var rule in filters.Rules)
        {
            if (string.Equals(rule.ProviderName, "FlowScope", StringComparison.OrdinalIgnoreCase)
                || string.Equals(rule.ProviderName, typeof(SpanLoggerProvider).FullName, StringComparison.Ordinal))
            {
                // SpanLoggerFilterSetup's own rule (MinimumLogLevel below Information) is covered by _minimum already.
                return true;
            }
        }

        return false;
    }

    public void Dispose()
    {
    }

    private string Cap(string value) => value.Length <= _maxValueLength ? value : string.Concat(value.AsSpan(0, _maxValueLength), "…");

    private sealed class SpanLogger(SpanLoggerProvider provider, string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None && Activity.Current is { IsAllDataRequested: true };

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel) || CaptureSuppression.IsSuppressed)
            {
                return;
            }

            var activity = Activity.Current!;
            var message = formatter(state, exception);
            var attributes = new List<KeyValuePair<string, string>>(6)
            {
                new("log.level", logLevel.ToString()),
                new("log.category", category),
            };
            if (eventId.Id != 0 || eventId.Name is not null)
            {
                attributes.Add(new("log.event_id", eventId.Name ?? eventId.Id.ToString(CultureInfo.InvariantCulture)));
            }

            List<KeyValuePair<string, string>>? replaced = null;
            if (state is IReadOnlyList<KeyValuePair<string, object?>> properties)
            {
                foreach (var pair in properties)
                {
                    if (pair.Key == "{OriginalFormat}" || pair.Value is null)
                    {
                        continue;
                    }

                    var raw = SpanConverter.FormatValue(pair.Value);
                    var kept = provider._redactor.LogValue(pair.Key, raw);
                    if (!ReferenceEquals(kept, raw) && kept != raw)
                    {
                        // The formatted message repeats the value: put what was kept in its place there too.
                        (replaced ??= []).Add(new(raw, kept));
                    }

                    if (attributes.Count < provider._maxAttributes)
                    {
                        attributes.Add(new(pair.Key, provider.Cap(kept)));
                    }
                }
            }

            // Then any query left in the text itself (a URL interpolated into the message rather than passed as a property).
            message = provider._redactor.RedactText(Redactor.Scrub(message, replaced));

            if (exception is not null)
            {
                attributes.Add(new("exception.type", exception.GetType().FullName ?? exception.GetType().Name));
                attributes.Add(new("exception.message", provider.Cap(exception.Message)));
                attributes.Add(new("exception.stacktrace", provider.Cap(exception.ToString())));
            }

            var spanEvent = new SpanEvent(provider.Cap(message.Length == 0 ? "log" : message), DateTimeOffset.UtcNow, [.. attributes]);
            if (HttpRequestInfo.Get(activity) is HttpRequestInfo request)
            {
                request.AddEvent(spanEvent);
            }
            else
            {
                SideEvents.Add(activity, spanEvent, provider._maxEvents);
            }
        }
    }
}

/// <summary>
/// FlowScope's provider follows the app's log filters (so <c>"Microsoft.AspNetCore": "Warning"</c>, as the project
/// templates set it, keeps the framework's per-request entries out of the spans too), with
/// <see cref="FlowScopeOptions.MinimumLogLevel"/> as a floor. Asking for a level below Information (Debug, Trace)
/// is taken as asking to see those entries in FlowScope whatever the app's filters: then FlowScope's provider gets a
/// rule of its own.
/// </summary>
internal sealed class SpanLoggerFilterSetup(IOptions<FlowScopeOptions> options) : IConfigureOptions<LoggerFilterOptions>
{
    public void Configure(LoggerFilterOptions filter)
    {
        var minimum = options.Value.MinimumLogLevel;
        if (minimum < LogLevel.Information)
        {
            filter.Rules.Add(new LoggerFilterRule(typeof(SpanLoggerProvider).FullName, null, minimum, null));
        }
    }
}
