using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FlowScope.Testing;

/// <summary>
/// A real redis-server process on a free loopback port, without persistence. Tests can kill it (as a crash would)
/// and start it again on the same port. Disposing kills it. Shared by the test projects that need Redis
/// (linked into each, so each keeps its own copy of the type).
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private const string ServerPath = "/usr/bin/redis-server";
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(15);
    private readonly IReadOnlyList<string> _extraArguments;
    private readonly string? _directory;
    private Process? _process;

    public RedisServer()
        : this([], null)
    {
    }

    /// <summary>
    /// A server started with <paramref name="extraArguments"/> after the defaults (later arguments win, so they can
    /// also switch persistence on) and, when given, <paramref name="directory"/> as its working directory (files
    /// such as a cluster's nodes.conf survive a restart there). Internal: a test fixture needs one public constructor.
    /// </summary>
    internal RedisServer(IReadOnlyList<string> extraArguments, string? directory)
    {
        _extraArguments = extraArguments;
        _directory = directory;
    }

    public int Port { get; } = FreePort();

    public string ConnectionString => $"127.0.0.1:{Port}";

    public bool IsRunning => _process is { HasExited: false };

    public Task InitializeAsync() => StartAsync();

    public async Task StartAsync()
    {
        if (!File.Exists(ServerPath))
        {
            throw new InvalidOperationException($"{ServerPath} is missing: install it with 'apt-get update && apt-get install -y redis-server'.");
        }

        var start = new ProcessStartInfo(ServerPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no" }.Concat(_extraArguments))
        {
            start.ArgumentList.Add(arg);
        }

        if (_directory is not null)
        {
            start.WorkingDirectory = _directory;
            start.ArgumentList.Add("--dir");
            start.ArgumentList.Add(_directory);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + s_startTimeout;
        var ready = false;
        while (!(ready = await PingAsync()) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20); // polling a condition with a deadline, not waiting for a result
        }

        if (!ready)
        {
            Kill();
            throw new InvalidOperationException($"redis-server did not answer PING on port {Port} within {s_startTimeout}.");
        }
    }

    /// <summary>Kills the server like a crash: no shutdown, all data gone (no persistence).</summary>
    public void Kill()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
        _process = null;
    }

    public async Task RestartAsync()
    {
        Kill();
        await StartAsync();
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public Task DisposeAsync()
    {
        Kill();
        return Task.CompletedTask;
    }
}
