using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// Removes secrets before anything is stored: values of attributes, log state and query parameters whose names
/// look secret (authorization, cookie, token, key, secret, password, code, sig, …, plus configured names) become
/// <see cref="Redacted"/>, and the app's own hook runs last. Applied where FlowScope copies data, so secrets never
/// reach the store, Redis, exports or the browser.
/// </summary>
internal sealed class Redactor
{
    public const string Redacted = "[REDACTED]";

    // Whole-segment names: "key" matches "api.key" or "x-api-key", not "monkey".
    private static readonly string[] s_segments =
    [
        "authorization", "proxy-authorization", "cookie", "set-cookie", "token", "key", "secret", "password", "passwd",
        "pwd", "code", "sig", "signature", "auth", "session", "sessionid", "credential", "credentials", "apikey",
        "jwt", "bearer", "otp", "pin", "ssn", "connectionstring",
    ];

    // Substrings that mark a secret wherever they appear in a name.
    private static readonly string[] s_fragments = ["password", "secret", "token", "apikey", "api_key", "api-key", "authorization", "cookie", "credential", "private_key", "privatekey", "connectionstring"];

    // Well-known attribute names whose segments look secret but whose values are not ("status_code", "code.*").
    private static readonly FrozenSet<string> s_known = new[]
    {
        "http.response.status_code", "rpc.grpc.status_code", "db.response.status_code", "otel.status_code",
        "otel.status_description", "error.code", "exception.code", "log.event_id",
    }.ToFrozenSet(StringComparer.Ordinal);

    private readonly FrozenSet<string> _segments;
    private readonly Func<string, string, string>? _hook;

    // Verdicts for names already checked: attribute keys repeat on every span, and the full check (a dozen
    // case-insensitive substring searches) cost more than the rest of converting an attribute. Bounded.
    private readonly ConcurrentDictionary<string, bool> _verdicts = new(StringComparer.Ordinal);
    private const int MaxVerdicts = 2_048;

    public Redactor(IEnumerable<string> extraNames, Func<string, string, string>? hook)
    {
        _segments = s_segments.Concat(extraNames.Select(n => n.Trim().ToLowerInvariant())).Where(n => n.Length > 0).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _hook = hook;
    }

    /// <summary>Whether a name (attribute key, header, query parameter, log property) looks secret.</summary>
    public bool IsSecret(string name)
    {
        if (_verdicts.TryGetValue(name, out var known))
        {
            return known;
        }

        var secret = Check(name);
        if (_verdicts.Count < MaxVerdicts)
        {
            _verdicts.TryAdd(name, secret);
        }

        return secret;
    }

    private bool Check(string name)
    {
        if (s_known.Contains(name) || name.StartsWith("code.", StringComparison.Ordinal) || name.StartsWith("flowscope.", StringComparison.Ordinal))
        {
            return false;
        }

        if (_segments.Contains(name))
        {
            return true;
        }

        foreach (var fragment in s_fragments)
        {
            if (name.Contains(fragment, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        var span = name.AsSpan();
        var start = 0;
        for (var i = 0; i <= span.Length; i++)
        {
            if (i == span.Length || span[i] is '.' or '_' or '-' or ':' or '/')
            {
                if (i > start && _segments.GetAlternateLookup<ReadOnlySpan<char>>().Contains(span[start..i]))
                {
                    return true;
                }

                start = i + 1;
            }
        }

        return false;
    }

    /// <summary>The value to keep for <paramref name="key"/>.</summary>
    public string Value(string key, string value) => Value(key, value, IsSecret(key));

    /// <summary>
    /// As <see cref="Value(string, string)"/> for a key whose verdict the caller already has (<see cref="IsSecret"/>,
    /// asked once for a key it writes on every span).
    /// </summary>
    public string Value(string key, string value, bool secret)
    {
        var result = secret ? Redacted : value;
        if (string.Equals(key, "url.query", StringComparison.Ordinal) || string.Equals(key, "url.full", StringComparison.Ordinal))
        {
            result = RedactUrl(result);
        }

        return _hook is null ? result : RunHook(key, result);
    }

    private string RunHook(string key, string value)
    {
        try
        {
            return _hook!(key, value) ?? Redacted;
        }
        catch (Exception)
        {
            // A failing hook must not leak: keep nothing rather than the unfiltered value.
            return Redacted;
        }
    }

    /// <summary>Replaces the values of secret-looking query parameters in a URL or query string.</summary>
    public string RedactUrl(string url)
    {
        var question = url.IndexOf('?', StringComparison.Ordinal);
        if (question < 0 && !url.Contains('=', StringComparison.Ordinal))
        {
            return url;
        }

        var prefix = question < 0 ? string.Empty : url[..(question + 1)];
        var query = question < 0 ? url : url[(question + 1)..];
        var fragmentAt = query.IndexOf('#', StringComparison.Ordinal);
        var fragment = fragmentAt < 0 ? string.Empty : query[fragmentAt..];
        if (fragmentAt >= 0)
        {
            query = query[..fragmentAt];
        }

        var builder = new StringBuilder(url.Length);
        builder.Append(prefix);
        var first = true;
        foreach (var part in query.Split('&'))
        {
            if (!first)
            {
                builder.Append('&');
            }

            first = false;
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString((equals < 0 ? part : part[..equals]).Replace('+', ' '));
            if (equals >= 0 && IsSecret(name))
            {
                builder.Append(part, 0, equals + 1).Append(Redacted);
            }
            else
            {
                builder.Append(part);
            }
        }

        return builder.Append(fragment).ToString();
    }

    /// <summary>Removes the given secret values wherever they appear in a text (a formatted log message).</summary>
    public static string Scrub(string text, List<string>? secrets)
    {
        if (secrets is null)
        {
            return text;
        }

        foreach (var secret in secrets)
        {
            if (secret.Length >= 3)
            {
                text = text.Replace(secret, Redacted, StringComparison.Ordinal);
            }
        }

        return text;
    }
}
