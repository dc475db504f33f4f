using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// The dashboard's static files, read once from embedded resources, each with its content type and ETag, and the
/// Brotli and gzip forms the build made of it (<c>name.br</c>, <c>name.gz</c>): a browser gets the smallest form it
/// accepts, with <c>Vary: Accept-Encoding</c> and an ETag of that form.
/// </summary>
internal sealed class DashboardAssets
{
    private const string Prefix = "FlowScope.Dashboard/";

    private readonly FrozenDictionary<string, Asset> _assets;

    public DashboardAssets()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            files[name[Prefix.Length..].Replace('\\', '/')] = buffer.ToArray();
        }

        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var (path, bytes) in files)
        {
            if (path.EndsWith(".br", StringComparison.Ordinal) || path.EndsWith(".gz", StringComparison.Ordinal))
            {
                continue;
            }

            var hash = Convert.ToHexStringLower(SHA256.HashData(bytes), 0, 8);
            assets[path] = new Asset(
                new Encoded(bytes, null, $"\"{hash}\""),
                files.TryGetValue(path + ".br", out var br) ? new Encoded(br, "br", $"\"{hash}-br\"") : null,
                files.TryGetValue(path + ".gz", out var gz) ? new Encoded(gz, "gzip", $"\"{hash}-gz\"") : null,
                ContentType(path));
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public bool TryGet(string path, out Asset asset) => _assets.TryGetValue(path, out asset!);

    /// <summary>Answers a request for one file: 404 when there is none, 304 when the browser's copy is current.</summary>
    public async Task ServeAsync(HttpContext context, string path)
    {
        var response = context.Response;
        if (!TryGet(path, out var asset))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var form = ResponseCompression.Choose(context.Request, brotli: asset.Brotli is not null, gzip: asset.Gzip is not null) switch
        {
            "br" => asset.Brotli!,
            "gzip" => asset.Gzip!,
            _ => asset.Identity,
        };

        response.Headers.ETag = form.ETag;
        response.Headers.CacheControl = "no-cache";
        response.Headers.Vary = HeaderNames.AcceptEncoding;
        if (context.Request.Headers.IfNoneMatch.Contains(form.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        response.ContentType = asset.ContentType;
        if (form.Encoding is not null)
        {
            response.Headers.ContentEncoding = form.Encoding;
        }

        response.ContentLength = form.Content.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(form.Content, context.RequestAborted).ConfigureAwait(false);
        }
    }

    internal static string ContentType(string path) => Path.GetExtension(path).ToUpperInvariant() switch
    {
        ".HTML" => "text/html; charset=utf-8",
        ".JS" or ".MJS" => "text/javascript; charset=utf-8",
        ".CSS" => "text/css; charset=utf-8",
        ".SVG" => "image/svg+xml",
        ".PNG" => "image/png",
        ".ICO" => "image/x-icon",
        ".JSON" => "application/json; charset=utf-8",
        _ => "application/octet-stream",
    };

    /// <summary>One file: as written, and compressed when the build made those forms.</summary>
    internal sealed record Asset(Encoded Identity, Encoded? Brotli, Encoded? Gzip, string ContentType)
    {
        /// <summary>The file as written.</summary>
        public byte[] Content => Identity.Content;
    }

    /// <summary>One form of a file: its bytes, its <c>Content-Encoding</c> (none for the file as written) and its ETag.</summary>
    internal sealed record Encoded(byte[] Content, string? Encoding, string ETag);
}
