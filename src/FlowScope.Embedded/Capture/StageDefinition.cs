using FlowScope.Embedded.Storage;
using FlowScope.Embedded.Storage.Encoding;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// A kind of pipeline stage, created once when the pipeline is built (a middleware) or once per endpoint, action or
/// result type (see <see cref="Named"/>). Every definition gets a small number, its <see cref="Id"/>, which is what a
/// recorded <see cref="HttpRequestInfo.Stage"/> holds.
/// </summary>
internal sealed class StageDefinition
{
    /// <summary>At most this many definitions get their own id; later ones share <see cref="Overflow"/>'s (their stages are recorded under its name).</summary>
    internal const int MaxDefinitions = 1 << 20;

    /// <summary>At most this many named variants per definition (<see cref="Named"/>); beyond, the definition itself is used.</summary>
    internal const int MaxNamed = 16_384;

    private static readonly Lock s_lock = new();
    private static StageDefinition[] s_all = new StageDefinition[64];
    private static int s_count;

    /// <summary>The definition of stages recorded after <see cref="MaxDefinitions"/> definitions were made.</summary>
    internal static readonly StageDefinition Overflow = new("(stage)", SpanComponents.Middleware, null);

    private readonly Lock _namedLock = new();
    private Dictionary<string, StageDefinition>? _named;

    /// <param name="name">The stage name (for example the middleware's type name).</param>
    /// <param name="component">The component, one of <see cref="SpanComponents"/>.</param>
    /// <param name="typeName">The full name of the type behind the stage, if known.</param>
    /// <param name="attributes">Attributes every stage of this kind carries (for example an MVC action's controller and route).</param>
    public StageDefinition(string name, string component, string? typeName, KeyValuePair<string, string>[]? attributes = null)
    {
        Name = name;
        Component = component;
        TypeName = typeName;
        Attributes = attributes;
        ComponentBit = WellKnownStrings.NumberOf(component) is var number and > 0 and < 15 ? (ushort)(1 << number) : (ushort)(1 << 15);
        Id = Register(this);
    }

    /// <summary>The bit of this definition's component in a payload's stage component mask (see <see cref="PayloadLayout"/>).</summary>
    public ushort ComponentBit { get; }

    public string Name { get; }

    public string Component { get; }

    public string? TypeName { get; }

    public KeyValuePair<string, string>[]? Attributes { get; }

    /// <summary>This definition's number: its index in a process-wide, append-only table.</summary>
    public int Id { get; }

    /// <summary>The definition numbered <paramref name="id"/>. Any thread, no lock.</summary>
    /// <exception cref="InvalidDataException">No definition has that number (a corrupt or foreign payload).</exception>
    public static StageDefinition FromId(int id) =>
        (uint)id < (uint)Volatile.Read(ref s_all).Length && Volatile.Read(ref s_all)[id] is { } definition
            ? definition
            : throw new InvalidDataException($"No stage definition numbered {id} exists in this process.");

    /// <summary>Whether any definition made so far satisfies <paramref name="predicate"/>.</summary>
    public static bool Any(Func<StageDefinition, bool> predicate)
    {
        var all = Volatile.Read(ref s_all);
        foreach (var definition in all)
        {
            if (definition is not null && predicate(definition))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// This kind of stage under a name of its own (an endpoint's route, an action method, a result type): made once
    /// per name and kept, so a stage records one number for both. An endpoint's named stage carries its route as
    /// <c>http.route</c>: <paramref name="route"/>, else the name.
    /// </summary>
    public StageDefinition Named(string name, string? route = null)
    {
        lock (_namedLock)
        {
            _named ??= new Dictionary<string, StageDefinition>(StringComparer.Ordinal);
            if (_named.TryGetValue(name, out var named))
            {
                return named;
            }

            if (_named.Count >= MaxNamed)
            {
                return this;
            }

            KeyValuePair<string, string>[]? attributes = Component == SpanComponents.Endpoint
                ? [new("http.route", route ?? name), .. Attributes ?? []]
                : Attributes;
            named = new StageDefinition(name, Component, TypeName, attributes);
            _named.Add(name, named);
            return named;
        }
    }

    // Definitions read from other processes' batches, by content: each gets one local definition.
    private static readonly Dictionary<(string Name, string Component, string? TypeName, string Attributes), StageDefinition> s_foreign = new();

    /// <summary>
    /// The local definition with this content, made once: what a stage recorded by another process (its batch read
    /// from Redis) is stored under here. Bounded like every definition (<see cref="MaxDefinitions"/>).
    /// </summary>
    public static StageDefinition ForContent(string name, string component, string? typeName, KeyValuePair<string, string>[]? attributes)
    {
        var key = (name, component, typeName, attributes is null ? string.Empty : string.Join('\u001f', attributes.Select(a => a.Key + "\u001e" + a.Value)));
        lock (s_foreign)
        {
            if (!s_foreign.TryGetValue(key, out var definition))
            {
                definition = new StageDefinition(name, component, typeName, attributes);
                if (s_foreign.Count < MaxNamed)
                {
                    s_foreign.Add(key, definition);
                }
            }

            return definition;
        }
    }

    private static int Register(StageDefinition definition)
    {
        lock (s_lock)
        {
            if (s_count >= MaxDefinitions)
            {
                return Overflow.Id;
            }

            var all = s_all;
            if (s_count == all.Length)
            {
                Array.Resize(ref all, all.Length * 2);
            }

            // Publish the slot before the array that may be new, so a reader never sees an id without its definition.
            all[s_count] = definition;
            Volatile.Write(ref s_all, all);
            return s_count++;
        }
    }
}
