using System.Globalization;
using System.Text.Json;

namespace FlowScope.Embedded.Mcp.Internal;

/// <summary>A tool's arguments, read leniently (numbers and booleans may come as strings); a wrong value names the fix.</summary>
internal sealed class ToolArguments(IDictionary<string, JsonElement>? arguments)
{
    public string? String(string name)
    {
        if (arguments is null || !arguments.TryGetValue(name, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }

        var text = value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText();
        return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
    }

    public int Int(string name, int defaultValue, int min, int max)
    {
        var text = String(name);
        if (text is null)
        {
            return defaultValue;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || number % 1 != 0)
        {
            throw new ToolArgumentException($"{name} must be a whole number from {min} to {max} (was '{FlowScopeTools.Cut(text)}').");
        }

        return (int)Math.Clamp(number, min, max);
    }

    public double? Double(string name)
    {
        var text = String(name);
        if (text is null)
        {
            return null;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= 0 && double.IsFinite(number)
            ? number
            : throw new ToolArgumentException($"{name} must be a number of milliseconds, 0 or more (was '{FlowScopeTools.Cut(text)}').");
    }

    public bool Bool(string name)
    {
        var text = String(name);
        return text is null ? false
            : bool.TryParse(text, out var flag) ? flag
            : throw new ToolArgumentException($"{name} must be true or false (was '{FlowScopeTools.Cut(text)}').");
    }
}

/// <summary>A tool was called with an argument it cannot use; the message tells the caller what to send.</summary>
internal sealed class ToolArgumentException(string message) : Exception(message);
