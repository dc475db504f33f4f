using FlowScope.Embedded.Capture;

namespace FlowScope.Embedded.Storage.Encoding;

/// <summary>
/// Walks a payload that came from outside this process end to end, so a malformed one is refused when it is read
/// rather than when a reader meets it later.
/// </summary>
internal static class PayloadValidator
{
    /// <summary>Checks <paramref name="data"/>; returns the spans it stands for.</summary>
    /// <param name="data">The payload.</param>
    /// <param name="localDefinitions">Whether stage definition numbers must exist in this process.</param>
    /// <exception cref="InvalidDataException">The payload is malformed.</exception>
    public static int Validate(ReadOnlySpan<byte> data, bool localDefinitions)
    {
        var payload = new SpanPayload(data);
        if (payload.TraceId == default || payload.SpanId == 0)
        {
            throw new InvalidDataException("A span payload has an all-zero trace or span id.");
        }

        if (payload.DurationTicks < 0)
        {
            throw new InvalidDataException("A span payload has a negative duration.");
        }

        var reader = payload.Body();
        for (var i = 0; i < 4; i++)
        {
            reader.SkipText();
        }

        reader.SkipAttributes();
        var flags = payload.Flags;
        if ((flags & PayloadLayout.HasStatusMessage) != 0)
        {
            reader.SkipText();
        }

        if ((flags & PayloadLayout.HasEvents) != 0)
        {
            reader.SkipEvents();
        }

        if ((flags & PayloadLayout.HasLinks) != 0)
        {
            var links = reader.ReadCount();
            reader.Take(checked(links * 24));
        }

        var stageCount = payload.StageCount;
        if (stageCount == 0)
        {
            if (!reader.AtEnd)
            {
                throw new InvalidDataException("A span payload has trailing bytes.");
            }

            return 1;
        }

        if (payload.StagesOffset != reader.Position)
        {
            throw new InvalidDataException("A span payload's stage section is not where its header says.");
        }

        var stages = new StageEntry[stageCount];
        var details = payload.Stages().ReadEntries(stages, out _);
        var failed = 0;
        foreach (var stage in stages)
        {
            if (localDefinitions)
            {
                StageDefinition.FromId(stage.Definition);
            }

            if (stage.Failed)
            {
                failed++;
            }

            if (!stage.HasDetails)
            {
                continue;
            }

            if ((stage.Flags & PayloadLayout.StageHasStatusMessage) != 0)
            {
                details.SkipText();
            }

            details.SkipAttributes();
            details.SkipEvents();
        }

        if (failed != payload.FailedStages || !details.AtEnd)
        {
            throw new InvalidDataException("A span payload's stage section does not match its header.");
        }

        return 1 + stageCount;
    }
}
