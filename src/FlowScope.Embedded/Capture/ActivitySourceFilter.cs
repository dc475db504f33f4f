namespace FlowScope.Embedded.Capture;

/// <summary>Decides which activity sources FlowScope listens to: built-in ones plus user patterns with <c>*</c> wildcards.</summary>
internal sealed class ActivitySourceFilter
{
    private readonly string[] _exact;
    private readonly string[] _patterns;

    public ActivitySourceFilter(IEnumerable<string> userSources)
    {
        var exact = new List<string> { FlowScopeSources.AspNetCore, FlowScopeSources.HttpClient, FlowScopeSources.SignalRServer, FlowScopeSources.GrpcClient };
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
    }

    public bool Matches(string sourceName)
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
