using FlowScope.Embedded.Dashboard;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Tests.Privacy;

/// <summary>Which requests the first middleware of the pipeline takes for the dashboard's.</summary>
public sealed class DashboardRequestsTests
{
    private static bool IsDashboard(DashboardRequests requests, string path, string pathBase = "")
    {
        var context = new DefaultHttpContext();
        context.Request.PathBase = pathBase;
        context.Request.Path = path;
        return requests.IsDashboardPath(context.Request);
    }

    [Theory]
    [InlineData("/_flowscope", "", true)]
    [InlineData("/_flowscope/", "", true)]
    [InlineData("/_FlowScope/api/stats", "", true)]
    [InlineData("/tools/_flowscope/api/stats", "", true)] // before UsePathBase("/tools") has run
    [InlineData("/api/stats", "/tools/_flowscope", true)] // inside a Map branch
    [InlineData("/ops/_flowscope", "", true)]
    [InlineData("/_flowscopes/api", "", false)]
    [InlineData("/x_flowscope", "", false)]
    [InlineData("/api/_flowscope-old", "", false)]
    [InlineData("/rooms/42/messages", "", false)]
    [InlineData("/", "", false)]
    public void The_dashboard_path_counts_as_whole_segments_anywhere(string path, string pathBase, bool expected) =>
        Assert.Equal(expected, IsDashboard(new DashboardRequests(Options.Create(new FlowScopeOptions())), path, pathBase));

    [Fact]
    public void MapFlowScope_patterns_count_too_and_only_one_at_the_dashboard_path_takes_it_over()
    {
        var requests = new DashboardRequests(Options.Create(new FlowScopeOptions { DashboardPath = "/ops/flow" }));
        Assert.True(IsDashboard(requests, "/flow/api/stats", "/ops")); // split between PathBase and Path
        Assert.False(IsDashboard(requests, "/diagnostics/api"));

        requests.AddPattern("/{tenant}/diagnostics", inGroup: false);
        Assert.True(IsDashboard(requests, "/acme/diagnostics/api/stats"));
        Assert.False(requests.MappedByApp);

        requests.AddPattern("/ops/flow", inGroup: true);
        Assert.False(requests.MappedByApp); // in a group its path has a prefix before it
        requests.AddPattern("/ops/flow/", inGroup: false);
        Assert.True(requests.MappedByApp);
    }
}
