using FlowScope.Embedded.Storage.Encoding;

namespace FlowScope.Embedded.Storage.Memory;

/// <summary>
/// Gives each component name a bit of a trace's component mask: well-known components (<see cref="SpanComponents"/>)
/// their well-known text number, others the next free bit up to 62; bit 63 stands for every later one. Not
/// thread-safe (the store's lock guards it).
/// </summary>
internal sealed class ComponentTable
{
    private const int FirstDynamicBit = 16;
    private const int OverflowBit = 63;

    private readonly Dictionary<string, int> _bits = new(StringComparer.Ordinal);
    private readonly string?[] _names = new string?[64];
    private readonly Dictionary<ulong, IReadOnlyList<string>> _lists = new();

    public ComponentTable()
    {
        for (var number = 1; number < FirstDynamicBit; number++)
        {
            if (number < WellKnownStrings.Count && IsComponent(WellKnownStrings.Get(number)))
            {
                _names[number] = WellKnownStrings.Get(number);
            }
        }

        _names[OverflowBit] = "(other)";
    }

    /// <summary>The bit of a component as a payload holds it.</summary>
    public ulong BitOf(in Text component)
    {
        if (component.IsWellKnown && component.Number < FirstDynamicBit && _names[component.Number] is not null)
        {
            return 1UL << component.Number;
        }

        return BitOf(component.ToString());
    }

    /// <summary>The bits of a payload's stage component mask (well-known numbers below 15; bit 15: another).</summary>
    public static ulong BitsOfStages(ushort stageComponents) => (ulong)(uint)(stageComponents & 0x7FFF) | ((stageComponents & 0x8000) != 0 ? 1UL << OverflowBit : 0UL);

    public ulong BitOf(string component)
    {
        var number = WellKnownStrings.NumberOf(component);
        if (number > 0 && number < FirstDynamicBit && _names[number] is not null)
        {
            return 1UL << number;
        }

        if (!_bits.TryGetValue(component, out var bit))
        {
            bit = FirstDynamicBit + _bits.Count;
            if (bit >= OverflowBit)
            {
                return 1UL << OverflowBit;
            }

            _bits.Add(component, bit);
            _names[bit] = component;
        }

        return 1UL << bit;
    }

    /// <summary>The bit of a component name asked for in a query (case-insensitive), or 0 when no span has it.</summary>
    public ulong Find(string component)
    {
        for (var bit = 0; bit < _names.Length; bit++)
        {
            if (bit != OverflowBit && _names[bit] is { } name && string.Equals(name, component, StringComparison.OrdinalIgnoreCase))
            {
                return 1UL << bit;
            }
        }

        return 0;
    }

    /// <summary>The component names of a mask, as one shared list per mask (in bit order).</summary>
    public IReadOnlyList<string> Names(ulong mask)
    {
        if (_lists.TryGetValue(mask, out var list))
        {
            return list;
        }

        var names = new List<string>(8);
        for (var bit = 0; bit < 64; bit++)
        {
            if ((mask & (1UL << bit)) != 0 && _names[bit] is { } name)
            {
                names.Add(name);
            }
        }

        list = names.ToArray();
        if (_lists.Count < 4_096)
        {
            _lists.Add(mask, list);
        }

        return list;
    }

    private static bool IsComponent(string text) => text is SpanComponents.Server or SpanComponents.Middleware
        or SpanComponents.Endpoint or SpanComponents.Controller or SpanComponents.Worker or SpanComponents.Queue
        or SpanComponents.HttpClient or SpanComponents.Database or SpanComponents.Simulator or SpanComponents.Custom
        or "signalr" or "grpc";
}
