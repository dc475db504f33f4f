using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FlowScope.Testing;

/// <summary>
/// A real Redis Cluster of three masters on loopback, built the way an operator builds one: three
/// <c>redis-server --cluster-enabled yes</c> processes on free ports, each with its own directory (nodes.conf, and an
/// append-only file written on every command so a killed master comes back with everything it acknowledged), joined
/// by <c>redis-cli --cluster create … --cluster-replicas 0</c>; ready once every node reports <c>cluster_state:ok</c>
/// with all 16 384 slots served. Tests can kill a master and start it again on the same port. A master that is down
/// only takes its own slots away (<c>cluster-require-full-coverage no</c>). Disposing kills the nodes and deletes the
/// directories. Linked into the test projects that need it.
/// </summary>
public sealed class RedisCluster : IAsyncLifetime
{
    public const int MasterCount = 3;
    private const string CliPath = "/usr/bin/redis-cli";
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(60);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "flowscope-cluster-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<RedisServer> _nodes = [];

    /// <summary>Gets the masters, in the order <c>redis-cli</c> gave them their slots (node 0 holds the lowest slots).</summary>
    public IReadOnlyList<RedisServer> Nodes => _nodes;

    /// <summary>Gets a StackExchange.Redis connection string naming every master.</summary>
    public string ConnectionString => string.Join(",", _nodes.Select(n => n.ConnectionString));

    public async Task InitializeAsync()
    {
        if (!File.Exists(CliPath))
        {
            throw new InvalidOperationException($"{CliPath} is missing: install it with 'apt-get update && apt-get install -y redis-server' (it brings redis-tools).");
        }

        try
        {
            for (var i = 0; i < MasterCount; i++)
            {
                var directory = Path.Combine(_root, "node" + i.ToString(CultureInfo.InvariantCulture));
                Directory.CreateDirectory(directory);
                var node = new RedisServer(
                [
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", "nodes.conf",
                    "--cluster-port", RedisServer.FreePort().ToString(CultureInfo.InvariantCulture),
                    "--cluster-node-timeout", "5000",
                    "--cluster-require-full-coverage", "no",
                    "--appendonly", "yes",
                    "--appendfsync", "always",
                ], directory);
                _nodes.Add(node);
                await node.StartAsync();
            }

            var create = new List<string> { "--cluster", "create" };
            create.AddRange(_nodes.Select(n => n.ConnectionString));
            create.AddRange(["--cluster-replicas", "0", "--cluster-yes"]);
            await RunCliAsync(create);
            await WaitUntilReadyAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills master <paramref name="index"/> like a crash.</summary>
    public void Kill(int index) => _nodes[index].Kill();

    /// <summary>Starts master <paramref name="index"/> again (same port, same nodes.conf and data) and waits until the cluster is whole.</summary>
    public async Task RestartAsync(int index)
    {
        await _nodes[index].StartAsync();
        await WaitUntilReadyAsync();
    }

    /// <summary>Gets the index of the master that serves <paramref name="slot"/>, as node 0 sees the cluster.</summary>
    public async Task<int> MasterOfSlotAsync(int slot)
    {
        foreach (var line in (await CommandAsync(_nodes[0].Port, "CLUSTER", "NODES")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ');
            if (!fields[2].Contains("master", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var range in fields.Skip(8).Where(f => !f.StartsWith('[')))
            {
                var bounds = range.Split('-');
                var low = int.Parse(bounds[0], CultureInfo.InvariantCulture);
                var high = bounds.Length > 1 ? int.Parse(bounds[1], CultureInfo.InvariantCulture) : low;
                if (slot >= low && slot <= high)
                {
                    var port = int.Parse(fields[1].Split('@')[0].Split(':')[1], CultureInfo.InvariantCulture);
                    return _nodes.FindIndex(n => n.Port == port);
                }
            }
        }

        throw new InvalidOperationException($"No master serves slot {slot}.");
    }

    /// <summary>Gets the node id (CLUSTER MYID) of master <paramref name="index"/>.</summary>
    public Task<string> NodeIdAsync(int index) => CommandAsync(_nodes[index].Port, "CLUSTER", "MYID");

    /// <summary>Sends one command to master <paramref name="index"/>; the reply as text (an array's elements one per line).</summary>
    public Task<string> NodeCommandAsync(int index, params string[] command) => CommandAsync(_nodes[index].Port, command);

    /// <summary>Waits until every node reports the cluster whole: state ok and all slots served by reachable masters.</summary>
    public async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow + s_readyTimeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            var ready = true;
            foreach (var node in _nodes)
            {
                try
                {
                    last = await CommandAsync(node.Port, "CLUSTER", "INFO");
                    ready &= last.Contains("cluster_state:ok", StringComparison.Ordinal)
                        && last.Contains("cluster_slots_ok:16384", StringComparison.Ordinal)
                        && last.Contains("cluster_known_nodes:" + MasterCount.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
                }
                catch (Exception ex) when (ex is SocketException or IOException)
                {
                    ready = false;
                    last = ex.Message;
                }
            }

            if (ready)
            {
                return;
            }

            await Task.Delay(50); // polling a condition with a deadline, not waiting for a result
        }

        throw new TimeoutException($"The cluster was not whole within {s_readyTimeout}: {last}");
    }

    /// <summary>Sends one command as a RESP array on a fresh connection and reads the reply (simple, bulk, integer, or an array of those).</summary>
    public static async Task<string> CommandAsync(int port, params string[] command)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        var stream = client.GetStream();
        var request = new StringBuilder().Append(CultureInfo.InvariantCulture, $"*{command.Length}\r\n");
        foreach (var part in command)
        {
            request.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()), timeout.Token);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await ReadReplyAsync(reader, timeout.Token);
    }

    private static async Task<string> ReadReplyAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        var line = await reader.ReadLineAsync(cancellationToken) ?? throw new IOException("The connection closed before a reply.");
        switch (line[0])
        {
            case '+':
            case ':':
                return line[1..];
            case '-':
                throw new InvalidOperationException("Redis error: " + line[1..]);
            case '$':
                var length = int.Parse(line.AsSpan(1), CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return "";
                }

                var buffer = new char[length];
                var read = 0;
                while (read < length)
                {
                    read += await reader.ReadAsync(buffer.AsMemory(read, length - read), cancellationToken);
                }

                await reader.ReadLineAsync(cancellationToken);
                return new string(buffer);
            case '*':
                var count = int.Parse(line.AsSpan(1), CultureInfo.InvariantCulture);
                var items = new List<string>();
                for (var i = 0; i < count; i++)
                {
                    items.Add(await ReadReplyAsync(reader, cancellationToken));
                }

                return string.Join("\n", items);
            default:
                throw new IOException("Unexpected reply: " + line);
        }
    }

    private static async Task RunCliAsync(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(CliPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("redis-cli did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(s_readyTimeout);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis-cli {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}): {await output}{await error}");
        }
    }

    public Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            node.Kill();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A directory left in /tmp costs nothing; failing the run over it would.
        }

        return Task.CompletedTask;
    }
}
