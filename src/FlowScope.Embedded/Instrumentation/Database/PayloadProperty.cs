using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using System.Reflection;

namespace FlowScope.Embedded.Database;

/// <summary>
/// Reads one named property of diagnostic payloads whose types FlowScope does not reference (Entity Framework Core's
/// event data, SqlClient's), through a getter compiled once per payload type. One instance serves one event, so the
/// type seen is almost always the last one.
/// </summary>
internal sealed class PayloadProperty(string name)
{
    private Getter? _last;

    public string Name { get; } = name;

    public object? Read(object? payload)
    {
        if (payload is null)
        {
            return null;
        }

        var getter = _last;
        var type = payload.GetType();
        if (getter is null || getter.Type != type)
        {
            getter = Build(type, Name);
            _last = getter;
        }

        return getter.Read(payload);
    }

    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Payload properties are public properties of types their library keeps; when one is missing the getter returns null and nothing is recorded.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "As above.")]
    private static Getter Build(Type type, string name)
    {
        var property = type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance);
        if (property?.GetMethod is null)
        {
            return new Getter(type, static _ => null);
        }

        var payload = Expression.Parameter(typeof(object), "payload");
        var body = Expression.Convert(Expression.Property(Expression.Convert(payload, type), property), typeof(object));
        return new Getter(type, Expression.Lambda<Func<object, object?>>(body, payload).Compile());
    }

    private sealed record Getter(Type Type, Func<object, object?> Read);
}
