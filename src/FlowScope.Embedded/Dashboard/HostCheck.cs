using System.Net;
using Microsoft.AspNetCore.Http;

namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// Which <c>Host</c> values the dashboard answers (<see cref="FlowScopeOptions.DashboardAllowedHosts"/>). Loopback
/// names are always allowed: <c>localhost</c> and <c>*.localhost</c> (browsers resolve them to loopback without
/// asking DNS, so no page can rebind them) and loopback IP literals. A page on a domain that an attacker re-resolves
/// to 127.0.0.1 is same-origin with the dashboard in the browser, but its requests still name that domain.
/// </summary>
internal sealed class HostCheck
{
    private readonly string[] _exact;
    private readonly string[] _suffixes; // "*.example.com" kept as ".example.com"

    public HostCheck(IEnumerable<string> allowedHosts)
    {
        var exact = new List<string>();
        var suffixes = new List<string>();
        foreach (var entry in allowedHosts)
        {
            var host = Normalize(entry.Trim());
            if (host == "*")
            {
                AllowsAny = true;
            }
            else if (host.StartsWith("*.", StringComparison.Ordinal))
            {
                suffixes.Add(host[1..]);
            }
            else if (host.Length > 0)
            {
                exact.Add(host);
            }
        }

        _exact = [.. exact];
        _suffixes = [.. suffixes];
        IsListed = AllowsAny || _exact.Length > 0 || _suffixes.Length > 0;
    }

    /// <summary>Whether the app listed any host: then the check applies to every dashboard request.</summary>
    public bool IsListed { get; }

    /// <summary>Whether the list holds <c>*</c>: any host is answered.</summary>
    public bool AllowsAny { get; }

    /// <summary>Whether the dashboard answers a request naming <paramref name="host"/>.</summary>
    public bool Allows(HostString host)
    {
        if (AllowsAny || !host.HasValue)
        {
            // HTTP/1.0 without Host: no browser sends that, so no page can be behind it.
            return true;
        }

        var name = Normalize(host.Host);
        if (IsLoopbackName(name))
        {
            return true;
        }

        foreach (var exact in _exact)
        {
            if (string.Equals(name, exact, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        foreach (var suffix in _suffixes)
        {
            if (name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary><c>localhost</c>, a name under <c>.localhost</c>, or a loopback IP literal.</summary>
    internal static bool IsLoopbackName(string name) =>
        string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase)
        || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(name, out var address) && IPAddress.IsLoopback(address));

    /// <summary>Checks the configured entries; returns the problems found, naming the fix.</summary>
    internal static IEnumerable<string> Validate(IEnumerable<string> allowedHosts)
    {
        foreach (var raw in allowedHosts)
        {
            var entry = raw?.Trim() ?? string.Empty;
            var host = Normalize(entry);
            var wildcard = host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host;
            if (entry.Length == 0)
            {
                yield return "FlowScope:DashboardAllowedHosts must not contain empty entries.";
            }
            else if (entry.Contains("://", StringComparison.Ordinal) || entry.Contains('/', StringComparison.Ordinal)
                || (wildcard != "*" && wildcard.Contains('*', StringComparison.Ordinal))
                || (wildcard.Contains(':', StringComparison.Ordinal) && !IPAddress.TryParse(wildcard, out _)))
            {
                yield return $"FlowScope:DashboardAllowedHosts entries are host names or IP addresses without scheme, port or path, '*.' followed by a domain, or '*' (was '{entry}'), e.g. 'devbox' or '*.example.com'.";
            }
        }
    }

    /// <summary>Lower case, without IPv6 brackets and without the trailing dot of a fully qualified name.</summary>
    private static string Normalize(string host)
    {
        if (host.Length > 1 && host[0] == '[' && host[^1] == ']')
        {
            host = host[1..^1];
        }

        if (host.Length > 1 && host[^1] == '.')
        {
            host = host[..^1];
        }

        return host.ToLowerInvariant();
    }
}
