using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;

namespace FlowScope.Embedded.BrowserTests;

/// <summary>
/// The bundled sample (the messenger), started the way a user starts it: its built program in a process of its own,
/// in Development, on a free loopback port. The docs' screenshots come from it.
/// </summary>
public sealed partial class SampleApp : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private SampleApp(Process process, Uri root)
    {
        _process = process;
        Root = root;
    }

    public Uri Root { get; }

    public Uri Dashboard => new(Root, "_flowscope/");

    /// <summary>The path of the sample's built program, written into this assembly at build time.</summary>
    public static string AssemblyPath => typeof(SampleApp).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SampleAssembly").Value!;

    public static async Task<SampleApp> StartAsync(IDictionary<string, string>? settings = null)
    {
        var program = AssemblyPath;
        if (!File.Exists(program))
        {
            throw new InvalidOperationException($"{program} is missing: build the sample (dotnet build samples/FlowScope.Samples.Messenger).");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(program)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(program);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start)!;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lines = new List<string>();
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (lines)
            {
                if (lines.Count < 400)
                {
                    lines.Add(line);
                }
            }

            if (ListeningOn().Match(line) is { Success: true } m)
            {
                listening.TrySetResult(new Uri(m.Groups[1].Value.TrimEnd('/') + "/"));
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("The sample exited:\n" + string.Join("\n", lines)));

        var root = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var app = new SampleApp(process, root);
        lock (lines)
        {
            app._output.AddRange(lines);
        }

        return app;
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningOn();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }

        _process.Dispose();
    }
}
