using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace FlowScope.Embedded.Database;

/// <summary>
/// N+1 and duplicate detection, the one place it is computed. Runs on the pump as spans are encoded: a trace's
/// database spans arrive before the spans that issued them and before its local root (children stop first), so when
/// the converter reaches an issuer or the root, the tally of its commands is complete. Marks (see contract in
/// docs/instrumentation.md, "Databases"):
/// <list type="bullet">
/// <item>on the local root: <c>flowscope.db.count</c>, <c>flowscope.db.n_plus_one</c> (the highest repeat count of a
/// normalised statement that reached the threshold, else 0), <c>flowscope.db.duplicates</c> (commands that repeated
/// an earlier one exactly: same text and same parameter values);</item>
/// <item>on the span or request stage that issued a repeated statement: <c>flowscope.db.repeated_statement</c>,
/// <c>flowscope.db.repeated_count</c>, <c>flowscope.db.repeated_ms</c>.</item>
/// </list>
/// Not thread-safe: one pump, one converter.
/// </summary>
internal sealed class DatabaseMarks(int threshold)
{
    public const string Count = "flowscope.db.count";
    public const string NPlusOne = "flowscope.db.n_plus_one";
    public const string Duplicates = "flowscope.db.duplicates";
    public const string RepeatedStatement = "flowscope.db.repeated_statement";
    public const string RepeatedCount = "flowscope.db.repeated_count";
    public const string RepeatedMs = "flowscope.db.repeated_ms";

    private const int MaxCachedStatements = 4_096;

    /// <summary>Statements are read (normalised, described) up to this many characters.</summary>
    internal const int MaxStatementLength = 8_192;

    // Keyed by the local root activity itself: a root that is never encoded (dropped, not captured) takes its tally
    // with it when it is collected.
    private readonly ConditionalWeakTable<Activity, Tally> _tallies = new();
    private readonly Dictionary<string, Statement> _statements = new(StringComparer.Ordinal);
    private int _open;

    /// <summary>Gets the threshold: the repeat count at which a normalised statement is an N+1.</summary>
    public int Threshold { get; } = threshold;

    /// <summary>
    /// Reads a statement (normalised form, operation, table), cached by text. A statement longer than
    /// <see cref="MaxStatementLength"/> is read from its beginning and not cached (the cache must not keep huge texts alive).
    /// </summary>
    public Statement Read(string text)
    {
        if (text.Length > MaxStatementLength)
        {
            return Describe(text[..MaxStatementLength]);
        }

        if (_statements.TryGetValue(text, out var statement))
        {
            return statement;
        }

        statement = Describe(text);
        if (_statements.Count >= MaxCachedStatements)
        {
            _statements.Clear();
        }

        _statements[text] = statement;
        return statement;
    }

    private static Statement Describe(string text)
    {
        var normalized = SqlStatement.Normalize(text, out var hasPlaceholders);
        var (operation, collection) = SqlStatement.Describe(text);
        var name = operation is null ? null : collection is null ? operation : string.Concat(operation, " ", collection);
        return new Statement(normalized, hasPlaceholders, operation, collection, name);
    }

    /// <summary>Counts a database command in its local trace, under the span (or stage) <paramref name="issuer"/>.</summary>
    public void Record(Activity command, ulong issuer, string? text)
    {
        var root = LocalRoot(command);
        if (!_tallies.TryGetValue(root, out var tally))
        {
            tally = new Tally();
            _tallies.Add(root, tally);
            _open++;
        }

        tally.Commands++;
        if (text is null)
        {
            return;
        }

        var statement = Read(text);
        var duration = command.Duration.Ticks;
        var group = tally.Group(statement.Normalized);
        group.Count++;
        group.Ticks += duration;
        var byIssuer = group.Issuer(issuer);
        byIssuer.Count++;
        byIssuer.Ticks += duration;

        // Exact duplicates need the parameter values' hash (kept beside FlowScope's own command spans, never stored);
        // a statement from elsewhere counts only when it has no parameters.
        var parameters = command.GetCustomProperty(DatabaseCommands.ParametersHashProperty) as int?;
        if (parameters is not null || !statement.HasPlaceholders)
        {
            if (!tally.Exact.Add((text, parameters ?? 0)))
            {
                tally.Duplicates++;
            }
        }
    }

    /// <summary>
    /// Adds the marks that belong on <paramref name="activity"/>: root marks when it is the local root of commands,
    /// issuer marks when it issued a repeated statement.
    /// </summary>
    public void AddMarks(Activity activity, Action<string, string> add)
    {
        if (_open == 0)
        {
            return;
        }

        var root = LocalRoot(activity);
        if (!_tallies.TryGetValue(root, out var tally))
        {
            return;
        }

        // Marks the span already carries (set by code that computed them itself) are kept as they are.
        if (ReferenceEquals(root, activity) && activity.GetTagItem(Count) is null)
        {
            add(Count, Format(tally.Commands));
            add(NPlusOne, Format(tally.HighestRepeat >= Threshold ? tally.HighestRepeat : 0));
            add(Duplicates, Format(tally.Duplicates));
        }

        if (activity.GetTagItem(RepeatedStatement) is null)
        {
            AddIssuerMarks(tally, Capture.SpanConverter.SpanIdOf(activity.SpanId), add);
        }
    }

    /// <summary>Whether a request stage (<paramref name="stageSpanId"/>) of <paramref name="request"/> issued a repeated statement.</summary>
    public bool HasIssuerMarks(Activity request, ulong stageSpanId) =>
        _open != 0 && _tallies.TryGetValue(LocalRoot(request), out var tally) && tally.Repeated(stageSpanId, Threshold) is not null;

    /// <summary>Adds the issuer marks of a request stage (<paramref name="stageSpanId"/>) of <paramref name="request"/>.</summary>
    public void AddStageMarks(Activity request, ulong stageSpanId, Action<string, string> add)
    {
        if (_open != 0 && _tallies.TryGetValue(LocalRoot(request), out var tally))
        {
            AddIssuerMarks(tally, stageSpanId, add);
        }
    }

    /// <summary>Forgets the tally of <paramref name="activity"/> once it, a local root, has been encoded.</summary>
    public void Release(Activity activity)
    {
        if (_open != 0 && activity.Parent is null && _tallies.Remove(activity))
        {
            _open--;
        }
    }

    private void AddIssuerMarks(Tally tally, ulong issuer, Action<string, string> add)
    {
        if (tally.Repeated(issuer, Threshold) is { } repeated)
        {
            add(RepeatedStatement, repeated.Statement);
            add(RepeatedCount, Format(repeated.Count));
            add(RepeatedMs, (repeated.Ticks / (double)TimeSpan.TicksPerMillisecond).ToString("0.###", CultureInfo.InvariantCulture));
        }
    }

    private static Activity LocalRoot(Activity activity)
    {
        while (activity.Parent is { } parent)
        {
            activity = parent;
        }

        return activity;
    }

    private static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>What FlowScope reads from one statement text.</summary>
    internal sealed record Statement(string Normalized, bool HasPlaceholders, string? Operation, string? Collection, string? Name);

    private sealed class Tally
    {
        private readonly Dictionary<string, Group> _groups = new(StringComparer.Ordinal);

        public int Commands;
        public int Duplicates;
        public readonly HashSet<(string Text, int Parameters)> Exact = [];

        public int HighestRepeat
        {
            get
            {
                var highest = 0;
                foreach (var group in _groups.Values)
                {
                    highest = Math.Max(highest, group.Count);
                }

                return highest;
            }
        }

        public Group Group(string normalized)
        {
            if (!_groups.TryGetValue(normalized, out var group))
            {
                group = new Group(normalized);
                _groups[normalized] = group;
            }

            return group;
        }

        /// <summary>The statement <paramref name="issuer"/> repeated most among those that reached the threshold in the trace (at least twice by it).</summary>
        public (string Statement, int Count, long Ticks)? Repeated(ulong issuer, int threshold)
        {
            (string, int, long)? best = null;
            foreach (var group in _groups.Values)
            {
                if (group.Count >= threshold && group.ByIssuer.TryGetValue(issuer, out var mine) && mine.Count >= 2 && (best is null || mine.Count > best.Value.Item2))
                {
                    best = (group.Normalized, mine.Count, mine.Ticks);
                }
            }

            return best;
        }
    }

    private sealed class Group(string normalized)
    {
        public string Normalized { get; } = normalized;

        public int Count;
        public long Ticks;
        public readonly Dictionary<ulong, IssuerCount> ByIssuer = [];

        public IssuerCount Issuer(ulong issuer)
        {
            if (!ByIssuer.TryGetValue(issuer, out var count))
            {
                count = new IssuerCount();
                ByIssuer[issuer] = count;
            }

            return count;
        }
    }

    private sealed class IssuerCount
    {
        public int Count;
        public long Ticks;
    }
}
