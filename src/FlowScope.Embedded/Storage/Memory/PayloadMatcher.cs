using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Storage.Encoding;

namespace FlowScope.Embedded.Storage.Memory;

/// <summary>
/// The parts of a trace query that look inside spans — free text, an attribute, a component name — evaluated on
/// the encoded payloads without building a record. A request's stages match as the records they are read as would
/// (their kind's name, component, type and attributes, and their own details). One per query; not thread-safe.
/// </summary>
internal sealed class PayloadMatcher
{
    private readonly Needle? _text;
    private readonly Needle? _attributeKey;
    private readonly Needle? _attributeValue;
    private readonly string? _component;

    // Per stage definition: whether it matches, computed on first sight.
    private readonly Dictionary<int, bool> _textDefinitions = new();
    private readonly Dictionary<int, bool> _attributeDefinitions = new();
    private readonly Dictionary<int, bool> _componentDefinitions = new();

    public PayloadMatcher(TraceQuery query)
    {
        _text = string.IsNullOrEmpty(query.Text) ? null : new Needle(query.Text);
        _attributeKey = string.IsNullOrEmpty(query.AttributeKey) ? null : new Needle(query.AttributeKey);
        _attributeValue = _attributeKey is null || query.AttributeValue is null ? null : new Needle(query.AttributeValue);
        _component = string.IsNullOrEmpty(query.Component) ? null : query.Component;
    }

    public bool HasText => _text is not null;

    /// <summary>The free text looked for, prepared.</summary>
    public Needle? TextNeedle => _text;

    public bool HasAttribute => _attributeKey is not null;

    public bool HasComponentName => _component is not null;

    /// <summary>Whether the span (or one of its stages) contains the query's text.</summary>
    public bool ContainsText(ReadOnlySpan<byte> data)
    {
        var needle = _text!;
        var payload = new SpanPayload(data);
        var reader = payload.Body();
        if (reader.ReadText().ContainsIgnoreCase(needle))
        {
            return true;
        }

        reader.SkipText();
        reader.SkipText();
        reader.SkipText();
        if (AttributeValuesContain(ref reader, needle))
        {
            return true;
        }

        var flags = payload.Flags;
        if ((flags & PayloadLayout.HasStatusMessage) != 0 && reader.ReadText().ContainsIgnoreCase(needle))
        {
            return true;
        }

        if ((flags & PayloadLayout.HasEvents) != 0 && EventsContain(ref reader, needle))
        {
            return true;
        }

        return payload.StageCount > 0 && StagesContainText(payload, needle);
    }

    private bool StagesContainText(SpanPayload payload, Needle needle)
    {
        var count = payload.StageCount;
        var stages = count <= 128 ? stackalloc StageEntry[count] : new StageEntry[count];
        var details = payload.Stages().ReadEntries(stages, out _);
        if (AnyKind(stages, _textDefinitions, d => Contains(d.Name, needle) || Contains(d.TypeName, needle) || AnyValueContains(d.Attributes, needle)))
        {
            return true;
        }

        foreach (var stage in stages)
        {
            if (!stage.HasDetails)
            {
                continue;
            }

            if ((stage.Flags & PayloadLayout.StageHasStatusMessage) != 0 && details.ReadText().ContainsIgnoreCase(needle))
            {
                return true;
            }

            if (AttributeValuesContain(ref details, needle) || EventsContain(ref details, needle))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the span (or one of its stages) carries the query's attribute (with its value, when given).</summary>
    public bool HasMatchingAttribute(ReadOnlySpan<byte> data)
    {
        var payload = new SpanPayload(data);
        var reader = payload.Attributes();
        if (AttributesMatch(ref reader))
        {
            return true;
        }

        if (payload.StageCount == 0)
        {
            return false;
        }

        var count = payload.StageCount;
        var stages = count <= 128 ? stackalloc StageEntry[count] : new StageEntry[count];
        var details = payload.Stages().ReadEntries(stages, out _);
        if (AnyKind(stages, _attributeDefinitions, d => (d.TypeName is { } typeName && Matches("code.namespace", typeName)) || (d.Attributes?.Any(a => Matches(a.Key, a.Value)) ?? false)))
        {
            return true;
        }

        foreach (var stage in stages)
        {
            if (!stage.HasDetails)
            {
                continue;
            }

            if ((stage.Flags & PayloadLayout.StageHasStatusMessage) != 0)
            {
                details.SkipText();
            }

            if (AttributesMatch(ref details))
            {
                return true;
            }

            details.SkipEvents();
        }

        return false;
    }

    /// <summary>Whether a span (or stage) has the query's component as its component, or as its name (not for requests).</summary>
    public bool TouchesComponentName(ReadOnlySpan<byte> data)
    {
        var payload = new SpanPayload(data);
        var reader = payload.Body();
        var name = reader.ReadText();
        var component = reader.ReadText();
        if (component.ToString().Equals(_component, StringComparison.OrdinalIgnoreCase)
            || (!(component.IsWellKnown && WellKnownStrings.Get(component.Number) == SpanComponents.Server) && name.ToString().Equals(_component, StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        if (payload.StageCount == 0)
        {
            return false;
        }

        var count = payload.StageCount;
        var stages = count <= 128 ? stackalloc StageEntry[count] : new StageEntry[count];
        payload.Stages().ReadEntries(stages, out _);
        return AnyKind(stages, _componentDefinitions, d => string.Equals(d.Component, _component, StringComparison.OrdinalIgnoreCase)
            || (d.Component != SpanComponents.Server && string.Equals(d.Name, _component, StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>Whether the kind of any stage satisfies <paramref name="test"/>, asked once per kind and query.</summary>
    private static bool AnyKind(ReadOnlySpan<StageEntry> stages, Dictionary<int, bool> verdicts, Func<StageDefinition, bool> test)
    {
        foreach (var stage in stages)
        {
            if (!verdicts.TryGetValue(stage.Definition, out var matches))
            {
                matches = test(StageDefinition.FromId(stage.Definition));
                verdicts[stage.Definition] = matches;
            }

            if (matches)
            {
                return true;
            }
        }

        return false;
    }

    private bool AttributesMatch(ref PayloadReader reader)
    {
        var count = reader.ReadCount();
        var found = false;
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadText();
            var value = reader.ReadText();
            if (!found && key.EqualsOrdinal(_attributeKey!) && (_attributeValue is null || value.EqualsIgnoreCase(_attributeValue)))
            {
                found = true;
            }
        }

        return found;
    }

    private bool Matches(string key, string value) =>
        string.Equals(key, _attributeKey!.Text, StringComparison.Ordinal)
        && (_attributeValue is null || string.Equals(value, _attributeValue.Text, StringComparison.OrdinalIgnoreCase));

    private static bool AttributeValuesContain(ref PayloadReader reader, Needle needle)
    {
        var count = reader.ReadCount();
        var found = false;
        for (var i = 0; i < count; i++)
        {
            reader.SkipText();
            if (!found && reader.ReadText().ContainsIgnoreCase(needle))
            {
                found = true;
            }
        }

        return found;
    }

    private static bool EventsContain(ref PayloadReader reader, Needle needle)
    {
        var count = reader.ReadCount();
        var found = false;
        for (var i = 0; i < count; i++)
        {
            if (!found && reader.ReadText().ContainsIgnoreCase(needle))
            {
                found = true;
            }
            else if (found)
            {
                reader.SkipText();
            }

            reader.ReadVarInt();
            if (AttributeValuesContain(ref reader, needle))
            {
                found = true;
            }
        }

        return found;
    }

    private static bool Contains(string? value, Needle needle) => value is not null && value.Contains(needle.Text, StringComparison.OrdinalIgnoreCase);

    private static bool AnyValueContains(KeyValuePair<string, string>[]? attributes, Needle needle) =>
        attributes is not null && attributes.Any(a => Contains(a.Value, needle));
}
