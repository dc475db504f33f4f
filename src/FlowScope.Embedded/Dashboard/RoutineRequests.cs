using FlowScope.Embedded.Storage;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// Decides which traces are routine requests (<see cref="FlowScopeOptions.RoutinePaths"/>): static files, health
/// checks and the like, which the trace list folds away by default. A request that failed with a server error is
/// never routine.
/// </summary>
internal sealed class RoutineRequests
{
    private readonly string[][] _patterns;

    public RoutineRequests(IOptions<FlowScopeOptions> options)
        : this(options.Value.RoutinePaths)
    {
    }

    internal RoutineRequests(IEnumerable<string> patterns)
    {
        _patterns = patterns
            .Where(p => !string.IsNullOrWhiteSpace(p))
            .Select(p => p.Trim().Split('*'))
            .ToArray();
    }

    public bool IsRoutine(TraceSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        if (_patterns.Length == 0 || summary.Kind != TraceKinds.Http || summary.StatusCode >= 500 || (summary.StatusCode is null && summary.IsError))
        {
            return false;
        }

        return Matches(PathOf(summary));
    }

    internal bool Matches(ReadOnlySpan<char> path)
    {
        foreach (var parts in _patterns)
        {
            if (Glob(path, parts))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The route template, else the path the request's name holds ("GET /app.js"), without its query.</summary>
    private static ReadOnlySpan<char> PathOf(TraceSummary summary)
    {
        if (!string.IsNullOrEmpty(summary.Route))
        {
            return summary.Route.StartsWith('/') ? summary.Route : string.Concat("/", summary.Route);
        }

        var name = summary.Name.AsSpan();
        var space = name.IndexOf(' ');
        var path = space >= 0 ? name[(space + 1)..] : name;
        var query = path.IndexOf('?');
        return query >= 0 ? path[..query] : path;
    }

    // Pattern parts split at '*': the first must start the path, the last must end it, the others appear in order.
    private static bool Glob(ReadOnlySpan<char> path, string[] parts)
    {
        if (parts.Length == 1)
        {
            return path.Equals(parts[0], StringComparison.OrdinalIgnoreCase);
        }

        if (!path.StartsWith(parts[0], StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = path[parts[0].Length..];
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var at = rest.IndexOf(parts[i], StringComparison.OrdinalIgnoreCase);
            if (at < 0)
            {
                return false;
            }

            rest = rest[(at + parts[i].Length)..];
        }

        return rest.EndsWith(parts[^1], StringComparison.OrdinalIgnoreCase);
    }
}
