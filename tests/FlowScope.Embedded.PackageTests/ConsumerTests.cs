using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace FlowScope.Embedded.PackageTests;

public sealed class ConsumerTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task A_new_web_app_referencing_the_package_serves_the_dashboard_and_lists_its_requests()
    {
        var root = RepositoryRoot();
        var feed = Path.Combine(root, "artifacts", "packages");
        var suffix = "consumer." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture) + "." + Environment.ProcessId;
        var work = Directory.CreateTempSubdirectory("flowscope-consumer-");
        try
        {
            var env = new Dictionary<string, string>
            {
                ["NUGET_PACKAGES"] = Path.Combine(work.FullName, "packages"), // a clean cache: the package really comes from the feed
                ["DOTNET_NOLOGO"] = "1",
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            };

            await RunAsync("dotnet", $"pack \"{Path.Combine(root, "src", "FlowScope.Embedded")}\" -c Release -o \"{feed}\" -p:VersionSuffix={suffix}", root, env);
            var version = "0.1.0-" + suffix;
            Assert.True(File.Exists(Path.Combine(feed, $"FlowScope.Embedded.{version}.nupkg")));
            Assert.True(File.Exists(Path.Combine(feed, $"FlowScope.Embedded.{version}.snupkg")));

            var app = Path.Combine(work.FullName, "app");
            await RunAsync("dotnet", $"new web -o \"{app}\" --framework net10.0", work.FullName, env);
            await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="flowscope-local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            await RunAsync("dotnet", $"add package FlowScope.Embedded --version {version}", app, env);
            var project = await File.ReadAllTextAsync(Path.Combine(app, "app.csproj"));
            Assert.Contains($"<PackageReference Include=\"FlowScope.Embedded\" Version=\"{version}\"", project, StringComparison.Ordinal);
            Assert.DoesNotContain("ProjectReference", project, StringComparison.Ordinal);

            // The two lines, where a user puts them.
            var program = await File.ReadAllTextAsync(Path.Combine(app, "Program.cs"));
            program = program
                .Replace("var builder = WebApplication.CreateBuilder(args);", "var builder = WebApplication.CreateBuilder(args);\nbuilder.Services.AddFlowScope();", StringComparison.Ordinal)
                .Replace("var app = builder.Build();", "var app = builder.Build();\napp.UseFlowScope();", StringComparison.Ordinal);
            Assert.Contains("AddFlowScope", program, StringComparison.Ordinal);
            Assert.Contains("UseFlowScope", program, StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), program);
            await RunAsync("dotnet", "build -c Release", app, env);

            var port = FreePort();
            using var server = Start("dotnet", $"run -c Release --no-build --urls http://127.0.0.1:{port}", app, env);
            try
            {
                using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
                // Probe FlowScope's own API (never captured) so the probes do not count as traffic.
                await WaitUntilAsync(async () => (await TryGetAsync(client, "/_flowscope/api/stats")) == HttpStatusCode.OK, TimeSpan.FromMinutes(2), () => server.Output);

                for (var i = 0; i < 3; i++)
                {
                    Assert.Equal("Hello World!", await client.GetStringAsync("/"));
                }

                var page = await client.GetStringAsync("/_flowscope/");
                Assert.Contains("FlowScope", page, StringComparison.Ordinal);
                Assert.Contains("<script type=\"module\"", page, StringComparison.Ordinal);

                var listed = 0;
                await WaitUntilAsync(
                    async () =>
                    {
                        using var json = JsonDocument.Parse(await client.GetStringAsync("/_flowscope/api/traces"));
                        listed = json.RootElement.GetProperty("traces").EnumerateArray().Count(t => t.GetProperty("name").GetString() == "GET /");
                        return listed == 3;
                    },
                    TimeSpan.FromSeconds(20),
                    () => server.Output);
                Assert.Equal(3, listed);
            }
            finally
            {
                server.Stop();
            }
        }
        finally
        {
            try
            {
                work.Delete(recursive: true);
            }
            catch (IOException)
            {
                // a build server may still hold a file; the temp folder is cleaned by the OS
            }

            foreach (var file in Directory.GetFiles(feed, $"FlowScope.Embedded.0.1.0-{suffix}.*"))
            {
                File.Delete(file);
            }
        }
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "FlowScope.Embedded.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Repository root not found.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<HttpStatusCode?> TryGetAsync(HttpClient client, string path)
    {
        try
        {
            using var response = await client.GetAsync(path);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException)
        {
            return null;
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> diagnostics)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Not reached within {timeout}. Output:\n{diagnostics()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }

    private static async Task RunAsync(string file, string arguments, string directory, Dictionary<string, string> env)
    {
        using var process = Start(file, arguments, directory, env);
        using var cts = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.Process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Stop();
            Assert.Fail($"'{file} {arguments}' did not finish within {CommandTimeout}:\n{process.Output}");
        }

        Assert.True(process.Process.ExitCode == 0, $"'{file} {arguments}' failed with {process.Process.ExitCode}:\n{process.Output}");
    }

    private static RunningProcess Start(string file, string arguments, string directory, Dictionary<string, string> env)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in env)
        {
            info.Environment[key] = value;
        }

        return new RunningProcess(Process.Start(info)!);
    }

    private sealed class RunningProcess : IDisposable
    {
        private readonly StringBuilder _output = new();

        public RunningProcess(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }
        }

        public void Stop()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
        }

        public void Dispose()
        {
            Stop();
            Process.Dispose();
        }
    }
}
