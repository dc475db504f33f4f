using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Routing;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// Removes secrets before anything is stored: values of attributes, log state and query parameters whose names
/// look secret (authorization, cookie, token, key, secret, password, code, sig, …, plus configured names) become
/// <see cref="Redacted"/>, and the app's own hook runs last. Applied where FlowScope copies data, so secrets never
/// reach the store, Redis, exports or the browser. Log entries get the same rules (<see cref="LogValue"/>,
/// <see cref="RedactText"/>): secret query parameters inside any text, URL-like properties (<c>QueryString</c>,
/// <c>Url</c>, <c>RequestUri</c>, …) and bodies (<c>RequestBody</c>, HTTP logging's <c>Body</c>: JSON keeps its shape
/// with secret fields redacted, anything else is dropped whole).
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

    /// <summary>The value to keep for a log property (structured state) named <paramref name="key"/>.</summary>
    public string LogValue(string key, string value)
    {
        var result = IsSecret(key) ? Redacted
            : IsBodyName(key) ? RedactBody(value)
            : IsUrlName(key) ? RedactUrl(value)
            : RedactText(value);
        return _hook is null ? result : RunHook(key, result);
    }

    /// <summary>
    /// Replaces the values of secret-looking parameters wherever a query or fragment (<c>?name=value&amp;…</c>,
    /// <c>#access_token=…</c>) appears in a text: a log message, a property holding a URL. Returns the same instance
    /// when there is nothing to redact.
    /// </summary>
    public string RedactText(string text)
    {
        var start = text.AsSpan().IndexOfAny('?', '#');
        if (start < 0)
        {
            return text;
        }

        StringBuilder? builder = null;
        var copied = 0;
        while (start >= 0)
        {
            var end = start + 1;
            while (end < text.Length && !EndsQuery(text[end]))
            {
                end++;
            }

            var query = text.AsSpan(start + 1, end - start - 1);
            if (query.Contains('=') && RedactQuery(query) is { } redacted)
            {
                builder ??= new StringBuilder(text.Length + 16);
                builder.Append(text, copied, start + 1 - copied).Append(redacted);
                copied = end;
            }

            start = end < text.Length ? text.AsSpan(end).IndexOfAny('?', '#') : -1;
            start = start < 0 ? -1 : start + end;
        }

        return builder is null ? text : builder.Append(text, copied, text.Length - copied).ToString();
    }

    // Only what cannot be part of a URL written into a text ends it: a value cut short at a bracket or a comma would
    // let a secret parameter after it through.
    private static bool EndsQuery(char c) => char.IsWhiteSpace(c) || c is '"' or '\'' or '<' or '>' or '`';

    /// <summary>
    /// The parameters (separated by '&amp;', ';' or '#') with secret ones' values redacted, or <see langword="null"/>
    /// when none is secret.
    /// </summary>
    private string? RedactQuery(ReadOnlySpan<char> query)
    {
        StringBuilder? builder = null;
        var start = 0;
        for (var i = 0; i <= query.Length; i++)
        {
            if (i < query.Length && query[i] is not ('&' or ';' or '#'))
            {
                continue;
            }

            var part = query[start..i];
            var equals = part.IndexOf('=');
            if (equals > 0 && IsSecretParameter(part[..equals]) && !part[(equals + 1)..].SequenceEqual(Redacted))
            {
                builder ??= new StringBuilder(query.Length + 16).Append(query[..start]);
                builder.Append(part[..(equals + 1)]).Append(Redacted);
            }
            else
            {
                builder?.Append(part);
            }

            if (i < query.Length)
            {
                builder?.Append(query[i]);
            }

            start = i + 1;
        }

        return builder?.ToString();
    }

    /// <summary>Whether a query parameter's (escaped) name looks secret; a name seen before costs no allocation.</summary>
    private bool IsSecretParameter(ReadOnlySpan<char> name)
    {
        if (name.IndexOfAny('%', '+') < 0 && _verdicts.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out var known))
        {
            return known;
        }

        return IsSecret(Uri.UnescapeDataString(name.ToString().Replace('+', ' ')));
    }

    /// <summary>Names of log properties holding URLs, paths or query strings.</summary>
    private static bool IsUrlName(string name) =>
        name.EndsWith("Url", StringComparison.OrdinalIgnoreCase) || name.EndsWith("Uri", StringComparison.OrdinalIgnoreCase)
        || name.EndsWith("QueryString", StringComparison.OrdinalIgnoreCase) || name.EndsWith("Path", StringComparison.OrdinalIgnoreCase)
        || name is "Query" or "query" or "Location" or "Referer" or "Referrer" or "Href" or "Target" or "RequestTarget"
        || name is "url.full" or "url.query" or "http.url" or "http.target";

    /// <summary>Names of log properties holding a request or response body (HTTP logging writes <c>Body</c>).</summary>
    private static bool IsBodyName(string name) => name.EndsWith("Body", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A body as it may be kept: JSON with the values of secret-looking fields (at any depth) redacted, a form with
    /// its secret fields redacted, anything else (text that cannot be read field by field, a cut-off JSON document)
    /// replaced whole.
    /// </summary>
    public string RedactBody(string body)
    {
        var trimmed = body.AsSpan().Trim();
        if (trimmed.Length == 0)
        {
            return body;
        }

        if (trimmed[0] is '{' or '[')
        {
            try
            {
                if (JsonNode.Parse(body) is not { } node)
                {
                    return body;
                }

                if (RedactedString(node) is { } kept)
                {
                    return JsonValue.Create(kept).ToJsonString();
                }

                RedactJson(node);
                return node.ToJsonString();
            }
            catch (JsonException)
            {
                return Redacted;
            }
        }

        return trimmed.Contains('=') && !trimmed.ContainsAny(" \t\r\n") ? RedactUrl(body) : Redacted;
    }

    private void RedactJson(JsonNode node)
    {
        if (node is JsonObject obj)
        {
            foreach (var name in obj.Select(p => p.Key).ToArray())
            {
                if (IsSecret(name))
                {
                    obj[name] = Redacted;
                }
                else if (RedactedString(obj[name]) is { } kept)
                {
                    obj[name] = kept;
                }
                else if (obj[name] is { } child)
                {
                    RedactJson(child);
                }
            }
        }
        else if (node is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                if (RedactedString(array[i]) is { } kept)
                {
                    array[i] = kept;
                }
                else if (array[i] is { } child)
                {
                    RedactJson(child);
                }
            }
        }
    }

    /// <summary>What is kept of a JSON string holding a secret query parameter, or <see langword="null"/> when it is kept as is.</summary>
    private string? RedactedString(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) && RedactText(text) is var kept && !ReferenceEquals(kept, text) ? kept : null;

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

    /// <summary>Replaces the values of secret-looking parameters in a URL, a query string (with or without '?') or a fragment.</summary>
    public string RedactUrl(string url)
    {
        if (url.AsSpan().IndexOfAny('?', '#') >= 0)
        {
            return RedactText(url);
        }

        return url.Contains('=', StringComparison.Ordinal) ? RedactQuery(url) ?? url : url;
    }

    /// <summary>The values of route parameters whose names look secret, each with <see cref="Redacted"/>; null when none.</summary>
    public List<KeyValuePair<string, string>>? SecretRouteValues(RouteValueDictionary values)
    {
        List<KeyValuePair<string, string>>? secrets = null;
        foreach (var (key, value) in values)
        {
            if (value is string { Length: >= 3 } text && IsSecret(key))
            {
                (secrets ??= []).Add(new(text, Redacted));
            }
        }

        return secrets;
    }

    /// <summary>Applies <see cref="Scrub(string, List{KeyValuePair{string, string}})"/> to each event's text and attribute values, in place.</summary>
    public static void Scrub(List<SpanEvent>? events, List<KeyValuePair<string, string>> replacements)
    {
        if (events is null)
        {
            return;
        }

        for (var i = 0; i < events.Count; i++)
        {
            var spanEvent = events[i];
            var attributes = spanEvent.Attributes.Select(a => new KeyValuePair<string, string>(a.Key, Scrub(a.Value, replacements))).ToArray();
            events[i] = spanEvent with { Name = Scrub(spanEvent.Name, replacements), Attributes = attributes };
        }
    }

    /// <summary>
    /// Puts what was kept of each value in place of the value wherever it appears in a text (a formatted log message
    /// repeats its properties' values).
    /// </summary>
    public static string Scrub(string text, List<KeyValuePair<string, string>>? replacements)
    {
        if (replacements is null)
        {
            return text;
        }

        foreach (var (raw, kept) in replacements)
        {
            if (raw.Length >= 3)
            {
                text = text.Replace(raw, kept, StringComparison.Ordinal);
            }
        }

        return text;
    }
}
