using System.Collections;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace FlowScope.Embedded.Dashboard;

/// <summary>Response headers that ignore every attempt to set an <c>Access-Control-*</c> header (see <see cref="CorsFreeResponseFeature"/>).</summary>
internal sealed class CorsFreeHeaders(IHeaderDictionary inner) : IHeaderDictionary
{
    public IHeaderDictionary Inner { get; } = inner;

    public StringValues this[string key]
    {
        get => Inner[key];
        set
        {
            if (!CorsFreeResponseFeature.IsCorsHeader(key))
            {
                Inner[key] = value;
            }
        }
    }

    StringValues IDictionary<string, StringValues>.this[string key]
    {
        get => Inner[key];
        set => this[key] = value;
    }

    public long? ContentLength
    {
        get => Inner.ContentLength;
        set => Inner.ContentLength = value;
    }

    public ICollection<string> Keys => Inner.Keys;

    public ICollection<StringValues> Values => Inner.Values;

    public int Count => Inner.Count;

    public bool IsReadOnly => Inner.IsReadOnly;

    public void Add(string key, StringValues value)
    {
        if (!CorsFreeResponseFeature.IsCorsHeader(key))
        {
#pragma warning disable ASP0019 // an Add the caller made: its duplicate-key behaviour is kept
            Inner.Add(key, value);
#pragma warning restore ASP0019
        }
    }

    public void Add(KeyValuePair<string, StringValues> item) => Add(item.Key, item.Value);

    public void Clear() => Inner.Clear();

    public bool Contains(KeyValuePair<string, StringValues> item) => Inner.Contains(item);

    public bool ContainsKey(string key) => Inner.ContainsKey(key);

    public void CopyTo(KeyValuePair<string, StringValues>[] array, int arrayIndex) => Inner.CopyTo(array, arrayIndex);

    public IEnumerator<KeyValuePair<string, StringValues>> GetEnumerator() => Inner.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Remove(string key) => Inner.Remove(key);

    public bool Remove(KeyValuePair<string, StringValues> item) => Inner.Remove(item);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out StringValues value) => Inner.TryGetValue(key, out value);

    /// <summary>Removes the CORS headers already set on <paramref name="headers"/>.</summary>
    public static void RemoveCorsHeaders(IHeaderDictionary headers)
    {
        List<string>? found = null;
        foreach (var header in headers)
        {
            if (CorsFreeResponseFeature.IsCorsHeader(header.Key))
            {
                (found ??= []).Add(header.Key);
            }
        }

        if (found is not null)
        {
            foreach (var key in found)
            {
                headers.Remove(key);
            }
        }
    }
}
