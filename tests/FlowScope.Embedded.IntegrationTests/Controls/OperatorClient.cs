using System.Net.Http.Json;
using System.Text.Json;

namespace FlowScope.Embedded.IntegrationTests.Controls;

/// <summary>
/// Talks to the operator API as the dashboard does: fetches the antiforgery token from <c>api/operator</c>, keeps the
/// cookie it sets, and sends both with every POST and DELETE.
/// </summary>
internal sealed class OperatorClient(HttpClient client, Action<HttpRequestMessage>? decorate = null)
{
    private const string Base = "/_flowscope/";
    private string? _cookie;
    private string? _headerName;
    private string? _token;

    public JsonElement Session { get; private set; }

    public async Task<JsonElement> OpenAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Base + "api/operator");
        decorate?.Invoke(request);
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET api/operator answered {(int)response.StatusCode}: {body}");
        Session = JsonDocument.Parse(body).RootElement.Clone();
        if (response.Headers.TryGetValues("Set-Cookie", out var cookies))
        {
            _cookie = string.Join("; ", cookies.Select(c => c.Split(';')[0]));
        }

        if (Session.GetProperty("antiforgery") is { ValueKind: JsonValueKind.Object } antiforgery)
        {
            _headerName = antiforgery.GetProperty("headerName").GetString();
            _token = antiforgery.GetProperty("token").GetString();
        }

        return Session;
    }

    public Task<HttpResponseMessage> PostAsync(string path, object body, bool withToken = true) =>
        SendAsync(HttpMethod.Post, path, JsonContent.Create(body), withToken);

    public Task<HttpResponseMessage> DeleteAsync(string path, bool withToken = true) =>
        SendAsync(HttpMethod.Delete, path, null, withToken);

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Base + path);
        decorate?.Invoke(request);
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Injects a fault and returns it; fails the test with the problem details when refused.</summary>
    public async Task<JsonElement> InjectAsync(object fault)
    {
        using var response = await PostAsync("api/faults", fault);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == 201, $"POST api/faults answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, bool withToken = true)
    {
        var request = new HttpRequestMessage(method, Base + path) { Content = content };
        decorate?.Invoke(request);
        if (withToken && _token is not null)
        {
            request.Headers.Add(_headerName!, _token);
        }

        if (_cookie is not null)
        {
            request.Headers.Add("Cookie", _cookie);
        }

        return await client.SendAsync(request);
    }

    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, int status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
