using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// Compression of the dashboard's own answers, chosen from the request's <c>Accept-Encoding</c>: static files come
/// compressed from the build (<see cref="DashboardAssets"/>); JSON is compressed as it is written (Brotli at its
/// fastest level, else gzip), unless it is too small to gain; the live stream is gzip flushed after every batch.
/// Every answer that depends on <c>Accept-Encoding</c> says so with <c>Vary</c>.
/// </summary>
internal static class ResponseCompression
{
    /// <summary>Smaller JSON answers are sent as they are: compressing them saves less than it costs.</summary>
    internal const int MinimumJsonBytes = 1_024;

    /// <summary>
    /// The encoding to answer with: <c>br</c>, <c>gzip</c> or <see langword="null"/> (as written), the first the
    /// client accepts (a q-value of 0 refuses) in that order of preference.
    /// </summary>
    public static string? Choose(HttpRequest request, bool brotli = true, bool gzip = true)
    {
        var accepted = request.Headers.AcceptEncoding;
        if (accepted.Count == 0)
        {
            return null;
        }

        bool brOk = false, gzipOk = false, anyOk = false, brNamed = false, gzipNamed = false;
        foreach (var value in accepted)
        {
            foreach (var part in (value ?? string.Empty).Split(','))
            {
                var token = part.AsSpan().Trim();
                var q = 1.0;
                var semicolon = token.IndexOf(';');
                if (semicolon >= 0)
                {
                    var parameter = token[(semicolon + 1)..].Trim();
                    if (parameter.StartsWith("q=", StringComparison.OrdinalIgnoreCase)
                        && double.TryParse(parameter[2..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
                    {
                        q = parsed;
                    }

                    token = token[..semicolon].Trim();
                }

                if (token.Equals("br", StringComparison.OrdinalIgnoreCase))
                {
                    brNamed = true;
                    brOk = q > 0;
                }
                else if (token.Equals("gzip", StringComparison.OrdinalIgnoreCase))
                {
                    gzipNamed = true;
                    gzipOk = q > 0;
                }
                else if (token.Equals("*", StringComparison.Ordinal))
                {
                    anyOk = q > 0;
                }
            }
        }

        if (brotli && (brOk || (!brNamed && anyOk)))
        {
            return "br";
        }

        return gzip && (gzipOk || (!gzipNamed && anyOk)) ? "gzip" : null;
    }

    /// <summary>Writes a JSON answer, compressed when the client accepts it and it is large enough to gain.</summary>
    public static async Task WriteJsonAsync<T>(HttpContext context, T value, JsonTypeInfo<T> typeInfo, string contentType)
    {
        var response = context.Response;
        response.ContentType = contentType;
        response.Headers.Vary = HeaderNames.AcceptEncoding;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);
        var encoding = bytes.Length >= MinimumJsonBytes ? Choose(context.Request) : null;
        if (encoding is null)
        {
            response.ContentLength = bytes.Length;
            await response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        response.Headers.ContentEncoding = encoding;
        using var compressed = new MemoryStream(bytes.Length / 4);
        await using (var compressor = Compressor(compressed, encoding, leaveOpen: true))
        {
            await compressor.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
        }

        response.ContentLength = compressed.Length;
        await response.Body.WriteAsync(compressed.GetBuffer().AsMemory(0, (int)compressed.Length), context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// The stream the live stream writes to: gzip over the response body when the client accepts it (flushing it
    /// ends a complete block, so each batch arrives at once), else the body itself.
    /// </summary>
    public static Stream ForEventStream(HttpContext context)
    {
        var response = context.Response;
        response.Headers.Vary = HeaderNames.AcceptEncoding;
        if (Choose(context.Request, brotli: false) is not { } encoding)
        {
            return response.Body;
        }

        response.Headers.ContentEncoding = encoding;
        return Compressor(response.Body, encoding, leaveOpen: true);
    }

    private static Stream Compressor(Stream output, string encoding, bool leaveOpen) => encoding == "br"
        ? new BrotliStream(output, CompressionLevel.Fastest, leaveOpen)
        : new GZipStream(output, CompressionLevel.Fastest, leaveOpen);
}
