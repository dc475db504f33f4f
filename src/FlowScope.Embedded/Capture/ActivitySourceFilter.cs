namespace FlowScope.Embedded.Capture;

/// <summary>
/// Decides which activity sources FlowScope listens to: built-in ones, database clients that follow OpenTelemetry's
/// database conventions (their command spans only), plus user patterns with <c>*</c> wildcards.
/// </summary>
internal sealed class ActivitySourceFilter
{
    /// <summary>
    /// Database clients with activity sources of their own, listened to by default (when database capture is on);
    /// of their spans only those that carry <c>db.system.name</c> / <c>db.system</c> are kept.
    /// </summary>
    internal static readonly string[] DatabaseSources =
    [
        "Npgsql", "MySqlConnector", "Oracle.ManagedDataAccess.Core", "Oracle.ManagedDataAccess", "MongoDB.Driver",
        "MongoDB.Driver.Core.Extensions.DiagnosticSources",
    ];

    private readonly string[] _exact;
    private readonly string[] _patterns;
    private readonly string[] _databaseOnly;

    public ActivitySourceFilter(IEnumerable<string> userSources, bool databaseSources = true)
    {
        var exact = new List<string> { FlowScopeSources.AspNetCore, FlowScopeSources.HttpClient };
        var patterns = new List<string> { FlowScopeSources.Prefix + ".*" };
        foreach (var source in userSources)
        {
            var trimmed = source.Trim();
            if (trimmed.Contains('*', StringComparison.Ordinal))
            {
                patterns.Add(trimmed);
            }
            else
            {
                exact.Add(trimmed);
            }
        }

        _exact = [.. exact.Distinct(StringComparer.OrdinalIgnoreCase)];
        _patterns = [.. patterns.Distinct(StringComparer.OrdinalIgnoreCase)];
        _databaseOnly = databaseSources ? [.. DatabaseSources.Where(name => !MatchesUser(name))] : [];
    }

    /// <summary>
    /// Whether spans of <paramref name="sourceName"/> are kept only when they are database commands (a default database
    /// source the user did not name).
    /// </summary>
    public bool IsDatabaseOnly(string sourceName)
    {
        foreach (var name in _databaseOnly)
        {
            if (string.Equals(name, sourceName, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    public bool Matches(string sourceName)
    {
        // OpenTelemetry's EF Core and SqlClient instrumentations report commands FlowScope records from the same
        // diagnostic listeners itself: listening to them too would show each command twice.
        if (Database.DatabaseCommands.IsOpenTelemetryCommandSource(sourceName))
        {
            return false;
        }

        if (Array.IndexOf(DatabaseSources, sourceName) >= 0)
        {
            Database.DatabaseCommands.TrackTraces();
        }

        return MatchesUser(sourceName) || IsDatabaseOnly(sourceName);
    }

    private bool MatchesUser(string sourceName)
    {
        foreach (var name in _exact)
        {
            if (string.Equals(name, sourceName, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        foreach (var pattern in _patterns)
        {
            if (WildcardMatch(pattern, sourceName))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Glob match where <c>*</c> stands for any run of characters (case-insensitive).</summary>
    internal static bool WildcardMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> value)
    {
        int p = 0, v = 0, star = -1, mark = 0;
        while (v < value.Length)
        {
            if (p < pattern.Length && pattern[p] != '*' && char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(value[v]))
            {
                p++;
                v++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = v;
            }
            else if (star >= 0)
            {
                p = star + 1;
                v = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
