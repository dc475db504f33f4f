using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FlowScope.Embedded.Benchmarks;

/// <summary>
/// A server without a transport: it hands the host a feature collection per request and runs the application's
/// request exactly as a server does (create the context, process, dispose), on the calling thread. What remains is
/// the request path of the app, its middleware and its instrumentation — no sockets, no parsing, no client.
/// </summary>
public sealed class InProcessServer : IServer
{
    private Func<string, Task<int>>? _send;

    public IFeatureCollection Features { get; } = new FeatureCollection();

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull
    {
        _send = path => SendAsync(application, path);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
    }

    /// <summary>Runs one GET request for <paramref name="path"/>; returns its status code.</summary>
    public Task<int> SendAsync(string path) => (_send ?? throw new InvalidOperationException("The host has not started the server."))(path);

    private static async Task<int> SendAsync<TContext>(IHttpApplication<TContext> application, string path)
        where TContext : notnull
    {
        var features = new FeatureCollection();
        var request = new HttpRequestFeature { Method = "GET", Path = path, Protocol = "HTTP/1.1", Scheme = "http" };
        request.Headers["Host"] = "localhost";
        var response = new HttpResponseFeature();
        features.Set<IHttpRequestFeature>(request);
        features.Set<IHttpResponseFeature>(response);
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        var context = application.CreateContext(features);
        Exception? failure = null;
        try
        {
            await application.ProcessRequestAsync(context).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = ex;
            throw;
        }
        finally
        {
            application.DisposeContext(context, failure);
        }

        return response.StatusCode;
    }
}
