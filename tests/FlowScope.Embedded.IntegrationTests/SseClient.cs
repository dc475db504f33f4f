using System.Text.Json;

namespace FlowScope.Embedded.IntegrationTests;

/// <summary>Reads a text/event-stream response event by event.</summary>
internal sealed class SseClient : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseClient(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body);
    }

    public HttpResponseMessage Response => _response;

    public static async Task<SseClient> ConnectAsync(HttpClient client, string url, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return new SseClient(response, await response.Content.ReadAsStreamAsync());
    }

    /// <summary>Reads events until one satisfies <paramref name="predicate"/>, within a bounded time.</summary>
    public async Task<ServerEvent> ReadUntilAsync(Func<ServerEvent, bool> predicate, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Eventually.DefaultTimeout);
        var seen = new List<string>();
        try
        {
            while (true)
            {
                var next = await ReadEventAsync(cts.Token);
                seen.Add(next.Name);
                if (predicate(next))
                {
                    return next;
                }
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"No matching event within the time limit; saw: {string.Join(", ", seen)}");
            throw;
        }
    }

    public async Task<ServerEvent> ReadEventAsync(CancellationToken cancellationToken)
    {
        string name = "message";
        string? id = null;
        var data = new List<string>();
        while (true)
        {
            var line = await _reader.ReadLineAsync(cancellationToken) ?? throw new EndOfStreamException("The event stream ended.");
            if (line.Length == 0)
            {
                if (data.Count == 0)
                {
                    name = "message";
                    continue; // a comment or retry block
                }

                return new ServerEvent(name, id, string.Join("\n", data));
            }

            if (line.StartsWith(':'))
            {
                continue;
            }

            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? string.Empty : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "event": name = value; break;
                case "id": id = value; break;
                case "data": data.Add(value); break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        await Task.CompletedTask;
    }
}

internal sealed record ServerEvent(string Name, string? Id, string Data)
{
    public IEnumerable<string> TraceIds() =>
        JsonDocument.Parse(Data).RootElement.EnumerateArray().Select(t => t.GetProperty("traceId").GetString()!).ToArray();

    public IEnumerable<JsonElement> Traces() => JsonDocument.Parse(Data).RootElement.EnumerateArray().Select(t => t.Clone()).ToArray();
}
