using System.Globalization;
using System.Text;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>Builds OTLP JSON files for import tests.</summary>
internal static class OtlpFiles
{
    /// <summary><paramref name="traces"/> one-span traces named "op N" plus one trace of <paramref name="bigTraceSpans"/> spans.</summary>
    public static string Many(int traces, int bigTraceSpans)
    {
        var start = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1_000_000L;
        var sb = new StringBuilder("{\"resourceSpans\":[{\"resource\":{\"attributes\":[]},\"scopeSpans\":[{\"scope\":{\"name\":\"gen\"},\"spans\":[");
        var first = true;
        void Span(string traceId, string spanId, string? parent, string name, long startNs, long durNs, int kind)
        {
            if (!first)
            {
                sb.Append(',');
            }

            first = false;
            sb.Append(CultureInfo.InvariantCulture, $"{{\"traceId\":\"{traceId}\",\"spanId\":\"{spanId}\",");
            if (parent is not null)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\"parentSpanId\":\"{parent}\",");
            }

            sb.Append(CultureInfo.InvariantCulture, $"\"name\":\"{name}\",\"kind\":{kind},\"startTimeUnixNano\":\"{startNs}\",\"endTimeUnixNano\":\"{startNs + durNs}\",\"attributes\":[{{\"key\":\"i\",\"value\":{{\"intValue\":\"{spanId.Length}\"}}}}],\"status\":{{}}}}");
        }

        for (var i = 0; i < traces; i++)
        {
            Span(Hex(i + 1, 32), Hex(i + 1, 16), null, $"op {i}", start + i * 1_000_000L, 500_000L + i % 97 * 10_000L, 2);
        }

        var bigId = "b" + Hex(0xB16, 31); // never one of the small traces' ids
        var bigStart = start + traces * 1_000_000L;
        Span(bigId, Hex(0xB160000, 16), null, "big trace", bigStart, 3_000_000_000L, 2);
        for (var i = 1; i < bigTraceSpans; i++)
        {
            var parent = i < 20 ? Hex(0xB160000, 16) : Hex(0xB160000 + (i % 19) + 1, 16);
            Span(bigId, Hex(0xB160000 + i, 16), parent, $"step {i}", bigStart + i * 1_000_000L, 800_000L, 1);
        }

        sb.Append("]}]}]}");
        return sb.ToString();
    }

    private static string Hex(long value, int digits) => value.ToString("x", CultureInfo.InvariantCulture).PadLeft(digits, '0');
}
