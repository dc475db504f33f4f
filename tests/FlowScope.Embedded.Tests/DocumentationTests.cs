using System.Reflection;

namespace FlowScope.Embedded.Tests;

public sealed class DocumentationTests
{
    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "FlowScope.Embedded.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root (FlowScope.Embedded.sln) was not found above " + AppContext.BaseDirectory);
    }

    public static TheoryData<Type> OptionTypes() => [typeof(FlowScopeOptions), typeof(Redis.RedisStreamsOptions), typeof(Queues.QueueOptions), typeof(Simulators.SimulatorOptions)];

    [Theory]
    [MemberData(nameof(OptionTypes))]
    public void Every_option_is_listed_in_the_configuration_page(Type optionsType)
    {
        var page = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "configuration.md"));

        var missing = optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => !page.Contains($"| `{p.Name}` |", StringComparison.Ordinal))
            .Select(p => p.Name)
            .ToArray();

        Assert.True(missing.Length == 0, $"docs/configuration.md does not list {optionsType.Name}: {string.Join(", ", missing)}");
    }
}
