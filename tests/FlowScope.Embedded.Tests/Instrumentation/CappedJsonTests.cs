using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using FlowScope.Embedded.Steps.Internal;

namespace FlowScope.Embedded.Tests.Instrumentation;

public sealed class CappedJsonTests
{
    [Fact]
    public void A_small_value_is_serialized_whole()
    {
        var (json, truncated) = CappedJson.Serialize(new Item("a", 1), CappedJsonContext.Default.Item, 4_096);
        Assert.Equal("""{"Name":"a","Count":1}""", json);
        Assert.False(truncated);
    }

    [Fact]
    public void A_huge_value_stops_at_the_cap_without_serializing_everything()
    {
        var items = Enumerable.Range(0, 500_000).Select(i => new Item("item" + i, i)).ToList();

        var (json, truncated) = CappedJson.Serialize(items, CappedJsonContext.Default.ListItem, 1_000);

        Assert.True(truncated);
        Assert.InRange(json.Length, 900, 1_000);
        Assert.StartsWith("""[{"Name":"item0","Count":0},{"Name":"item1","Count":1}""", json, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cut_never_splits_a_multi_byte_character()
    {
        var text = string.Concat(Enumerable.Repeat("é中", 2_000));

        var relaxed = new CappedJsonContext(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

        for (var cap = 300; cap <= 305; cap++) // every position inside "é" (2 bytes) and "中" (3 bytes)
        {
            var (json, truncated) = CappedJson.Serialize(new Item(text, 0), relaxed.Item, cap);

            Assert.True(truncated);
            Assert.DoesNotContain('\uFFFD', json);
            Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(json), cap - 2, cap);
            Assert.StartsWith("""{"Name":"é中""", json, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_cycle_surfaces_as_the_serializer_s_exception_for_the_caller_to_record()
    {
        var node = new Link { Name = "a" };
        node.Next = node;
        Assert.ThrowsAny<Exception>(() => CappedJson.Serialize(node, CappedJsonContext.Default.Link, 4_096));
    }
}

internal sealed record Item(string Name, int Count);

internal sealed class Link
{
    public string? Name { get; set; }

    public Link? Next { get; set; }
}

[JsonSerializable(typeof(Item))]
[JsonSerializable(typeof(List<Item>))]
[JsonSerializable(typeof(Link))]
internal sealed partial class CappedJsonContext : JsonSerializerContext;
