using System.Buffers;
using System.Security.Cryptography;
using FlowScope.Embedded.Capture;

namespace FlowScope.Embedded.Storage.Encoding;

/// <summary>
/// The serialized form of a <see cref="SpanBatch"/>, for other processes (a Redis entry's payload):
/// <code>
/// version (u8 = 2) · origin (16 bytes: the writing process) ·
/// definition count, (number, name, component, type name, attribute count, (key, value)*)* ·
/// payload count, (length, payload)*
/// </code>
/// Texts and varints as in <see cref="PayloadLayout"/>. The definitions are the stage kinds the payloads' stage
/// sections refer to by number; a reader in another process maps them onto its own.
/// </summary>
internal static class BatchSerializer
{
    /// <summary>This process's origin: stage definition numbers mean the same only within one origin.</summary>
    internal static readonly byte[] Origin = RandomNumberGenerator.GetBytes(16);

    public static int Write(SpanBatch batch, IBufferWriter<byte> output, ReadOnlySpan<int> indexes)
    {
        var scratch = new PayloadWriter(1024);
        scratch.WriteByte(SpanBatch.FormatVersion);
        scratch.WriteBytes(Origin);

        var definitions = new SortedSet<int>();
        foreach (var index in indexes)
        {
            AddDefinitions(batch.GetPayload(index), definitions);
        }

        scratch.WriteVarUInt((ulong)definitions.Count);
        foreach (var id in definitions)
        {
            var definition = StageDefinition.FromId(id);
            scratch.WriteVarUInt((ulong)id);
            scratch.WriteText(definition.Name);
            scratch.WriteText(definition.Component);
            scratch.WriteText(definition.TypeName ?? string.Empty);
            SpanRecordEncoder.WriteAttributes(scratch, definition.Attributes ?? []);
        }

        scratch.WriteVarUInt((ulong)indexes.Length);
        var total = scratch.Length;
        output.Write(scratch.Written);
        foreach (var index in indexes)
        {
            var payload = batch.GetPayload(index);
            scratch.Clear();
            scratch.WriteVarUInt((ulong)payload.Length);
            output.Write(scratch.Written);
            output.Write(payload);
            total += scratch.Length + payload.Length;
        }

        return total;
    }

    public static SpanBatch Read(ReadOnlySpan<byte> serialized)
    {
        if (serialized.Length < 17 || serialized[0] != SpanBatch.FormatVersion)
        {
            throw new InvalidDataException(serialized.Length == 0
                ? "The span batch is empty."
                : $"Unsupported span batch version {serialized[0]} (this library reads version {SpanBatch.FormatVersion}).");
        }

        var local = serialized.Slice(1, 16).SequenceEqual(Origin);
        var reader = new PayloadReader(serialized, 17);
        var definitionCount = reader.ReadCount();
        Dictionary<int, int>? map = local ? null : new Dictionary<int, int>(definitionCount);
        for (var i = 0; i < definitionCount; i++)
        {
            var id = checked((int)reader.ReadVarUInt());
            var name = reader.ReadString();
            var component = reader.ReadString();
            var typeName = reader.ReadString();
            var attributes = SpanDecoder.ReadAttributes(ref reader);
            if (map is not null)
            {
                map[id] = StageDefinition.ForContent(name, component, typeName.Length == 0 ? null : typeName, attributes.Length == 0 ? null : attributes).Id;
            }
        }

        var count = reader.ReadCount();
        var batch = new SpanBatch();
        var writer = batch.Writer;
        for (var i = 0; i < count; i++)
        {
            var length = reader.ReadCount();
            var payload = reader.Take(length);
            var spanCount = PayloadValidator.Validate(payload, map is null);
            var start = writer.Length;
            if (map is null || new SpanPayload(payload).StageCount == 0)
            {
                writer.WriteBytes(payload);
            }
            else
            {
                Transcode(payload, map, writer);
            }

            batch.Commit(start, writer.Length - start, spanCount);
        }

        if (!reader.AtEnd)
        {
            throw new InvalidDataException("The span batch has trailing bytes.");
        }

        return batch;
    }

    /// <summary>Writes a payload from another process with its stage definitions renumbered for this one.</summary>
    private static void Transcode(ReadOnlySpan<byte> payload, Dictionary<int, int> map, PayloadWriter writer)
    {
        var header = new SpanPayload(payload);
        var section = header.Stages();
        var stages = new StageEntry[section.Count];
        var details = section.ReadEntries(stages, out var withChildren);
        writer.WriteBytes(payload[..header.StagesOffset]);
        writer.WriteVarUInt(withChildren);
        for (var i = 0; i < stages.Length; i++)
        {
            if (!map.TryGetValue(stages[i].Definition, out var local))
            {
                throw new InvalidDataException($"A stage refers to definition {stages[i].Definition}, which the batch does not carry.");
            }

            writer.WriteVarUInt((ulong)local);
            writer.WriteVarInt(stages[i].StartTicks - header.StartTicks);
            writer.WriteVarUInt((ulong)stages[i].DurationTicks);
            writer.WriteVarUInt((ulong)(stages[i].Parent + 1));
            writer.WriteByte(stages[i].Flags);
        }

        writer.WriteBytes(payload[details.Position..]);
    }

    private static void AddDefinitions(ReadOnlySpan<byte> data, SortedSet<int> into)
    {
        var payload = new SpanPayload(data);
        if (payload.StageCount == 0)
        {
            return;
        }

        var stages = payload.StageCount <= 128 ? stackalloc StageEntry[payload.StageCount] : new StageEntry[payload.StageCount];
        payload.Stages().ReadEntries(stages, out _);
        foreach (var stage in stages)
        {
            into.Add(stage.Definition);
        }
    }
}
