using System.Globalization;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Http;

namespace FlowScope.Embedded.Dashboard;

/// <summary>Reads and validates the trace list's query string; every error names its parameter.</summary>
internal static class QueryParser
{
    internal const int MaxTextLength = 256;

    private static readonly string[] s_known = ["name", "status", "minDurationMs", "maxDurationMs", "q", "from", "to", "limit", "cursor", "component", "attr", "sort", "statusClass", "kind", "nPlusOne", "kept"];

    public static bool TryParse(IQueryCollection query, out TraceQuery result, out QueryError? error)
    {
        result = new TraceQuery();
        error = null;

        foreach (var key in query.Keys)
        {
            if (Array.IndexOf(s_known, key) < 0)
            {
                error = new QueryError(key, $"Unknown parameter '{key}'. Known parameters: {string.Join(", ", s_known)}.");
                return false;
            }

            if (query[key].Count > 1)
            {
                error = new QueryError(key, $"Parameter '{key}' was given more than once.");
                return false;
            }
        }

        string? Text(string key) => query.TryGetValue(key, out var v) && !string.IsNullOrEmpty(v.ToString()) ? v.ToString() : null;

        var name = Text("name");
        var q = Text("q");
        var component = Text("component");
        var attr = Text("attr");
        foreach (var (key, value) in new[] { ("name", name), ("q", q), ("component", component), ("attr", attr) })
        {
            if (value is { Length: > MaxTextLength })
            {
                error = new QueryError(key, $"Parameter '{key}' is longer than {MaxTextLength} characters.");
                return false;
            }
        }

        var status = TraceStatusFilter.Any;
        switch (Text("status"))
        {
            case null:
                break;
            case var s when s.Equals("ok", StringComparison.OrdinalIgnoreCase):
                status = TraceStatusFilter.Ok;
                break;
            case var s when s.Equals("error", StringComparison.OrdinalIgnoreCase):
                status = TraceStatusFilter.Error;
                break;
            case var s:
                error = new QueryError("status", $"Parameter 'status' must be 'ok' or 'error' (was '{Shorten(s)}').");
                return false;
        }

        if (!TryDuration(Text("minDurationMs"), "minDurationMs", out var minDuration, ref error)
            || !TryDuration(Text("maxDurationMs"), "maxDurationMs", out var maxDuration, ref error))
        {
            return false;
        }

        if (minDuration > maxDuration)
        {
            error = new QueryError("minDurationMs", "Parameter 'minDurationMs' must not be greater than 'maxDurationMs'.");
            return false;
        }

        if (!TryTime(Text("from"), "from", out var from, ref error) || !TryTime(Text("to"), "to", out var to, ref error))
        {
            return false;
        }

        if (from > to)
        {
            error = new QueryError("from", "Parameter 'from' must not be later than 'to'.");
            return false;
        }

        var limit = TraceQuery.DefaultLimit;
        if (Text("limit") is { } limitText
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > TraceQuery.MaxLimit))
        {
            error = new QueryError("limit", $"Parameter 'limit' must be a whole number from 1 to {TraceQuery.MaxLimit} (was '{Shorten(limitText)}').");
            return false;
        }

        string? attributeKey = null, attributeValue = null;
        if (attr is not null)
        {
            var equals = attr.IndexOf('=', StringComparison.Ordinal);
            attributeKey = equals < 0 ? attr : attr[..equals];
            attributeValue = equals < 0 ? null : attr[(equals + 1)..];
            if (attributeKey.Length == 0)
            {
                error = new QueryError("attr", "Parameter 'attr' must be 'key' or 'key=value', e.g. attr=http.route=/orders.");
                return false;
            }
        }

        var sort = TraceSort.Time;
        switch (Text("sort"))
        {
            case null:
                break;
            case var s when s.Equals("time", StringComparison.OrdinalIgnoreCase):
                break;
            case var s when s.Equals("duration", StringComparison.OrdinalIgnoreCase):
                sort = TraceSort.Duration;
                break;
            case var s:
                error = new QueryError("sort", $"Parameter 'sort' must be 'time' or 'duration' (was '{Shorten(s)}').");
                return false;
        }

        int? statusClass = null;
        if (Text("statusClass") is { } classText)
        {
            // "4xx", "4XX" or "4".
            var digits = classText.Length == 3 && classText.EndsWith("xx", StringComparison.OrdinalIgnoreCase) ? classText[..1] : classText;
            if (digits.Length != 1 || digits[0] < '1' || digits[0] > '5')
            {
                error = new QueryError("statusClass", $"Parameter 'statusClass' must be one of 1xx, 2xx, 3xx, 4xx, 5xx (was '{Shorten(classText)}').");
                return false;
            }

            statusClass = digits[0] - '0';
        }

        string? kind = null;
        if (Text("kind") is { } kindText)
        {
            if (!TraceKinds.TryParse(kindText, out var canonical))
            {
                error = new QueryError("kind", $"Parameter 'kind' must be one of {string.Join(", ", TraceKinds.All)} (was '{Shorten(kindText)}').");
                return false;
            }

            kind = canonical;
        }

        var nPlusOne = false;
        if (Text("nPlusOne") is { } nPlusOneText && !bool.TryParse(nPlusOneText, out nPlusOne))
        {
            error = new QueryError("nPlusOne", $"Parameter 'nPlusOne' must be 'true' or 'false' (was '{Shorten(nPlusOneText)}').");
            return false;
        }

        TraceRetention? kept = null;
        if (Text("kept") is { } keptText)
        {
            if (!Enum.TryParse<TraceRetention>(keptText, ignoreCase: true, out var reason) || !Enum.IsDefined(reason) || char.IsDigit(keptText[0]))
            {
                error = new QueryError("kept", $"Parameter 'kept' must be 'recent', 'error', 'slow' or 'sampled' (was '{Shorten(keptText)}').");
                return false;
            }

            kept = reason;
        }

        var cursor = Text("cursor");
        if (cursor is { Length: > 200 })
        {
            error = new QueryError("cursor", "Parameter 'cursor' is not a cursor returned by this API; pass the nextCursor value of the previous page.");
            return false;
        }

        result = new TraceQuery
        {
            Name = name,
            Text = q,
            Status = status,
            MinDuration = minDuration,
            MaxDuration = maxDuration,
            From = from,
            To = to,
            Limit = limit,
            Cursor = cursor,
            Component = component,
            AttributeKey = attributeKey,
            AttributeValue = attributeValue,
            Sort = sort,
            StatusClass = statusClass,
            Kind = kind,
            NPlusOne = nPlusOne,
            KeptBecause = kept,
        };
        return true;
    }

    private static bool TryDuration(string? text, string key, out TimeSpan? value, ref QueryError? error)
    {
        value = null;
        if (text is null)
        {
            return true;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) || !double.IsFinite(ms) || ms < 0 || ms > TimeSpan.MaxValue.TotalMilliseconds / 2)
        {
            error = new QueryError(key, $"Parameter '{key}' must be a non-negative number of milliseconds (was '{Shorten(text)}').");
            return false;
        }

        value = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    private static bool TryTime(string? text, string key, out DateTimeOffset? value, ref QueryError? error)
    {
        value = null;
        if (text is null)
        {
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            value = time;
            return true;
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var unixMs) && unixMs <= 253_402_300_799_999)
        {
            value = DateTimeOffset.FromUnixTimeMilliseconds(unixMs);
            return true;
        }

        error = new QueryError(key, $"Parameter '{key}' must be an ISO 8601 time (2026-11-22T10:00:00Z) or Unix milliseconds (was '{Shorten(text)}').");
        return false;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");
}

internal sealed record QueryError(string Parameter, string Detail);
