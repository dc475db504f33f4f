using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Dashboard;
using FlowScope.Embedded.Internal;
using FlowScope.Embedded.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace FlowScope.Embedded.Tests;

public sealed class OptionsAndParsingTests
{
    [Fact]
    public void Default_options_are_valid()
    {
        Assert.True(new FlowScopeOptionsValidator().Validate(null, new FlowScopeOptions()).Succeeded);
    }

    [Theory]
    [InlineData(nameof(FlowScopeOptions.BufferCapacity))]
    [InlineData(nameof(FlowScopeOptions.MaxTraces))]
    [InlineData(nameof(FlowScopeOptions.MaxSpansPerTrace))]
    [InlineData(nameof(FlowScopeOptions.DashboardPath))]
    public void Invalid_options_fail_with_the_configuration_key_named(string key)
    {
        var options = new FlowScopeOptions();
        switch (key)
        {
            case nameof(FlowScopeOptions.BufferCapacity): options.BufferCapacity = 0; break;
            case nameof(FlowScopeOptions.MaxTraces): options.MaxTraces = -1; break;
            case nameof(FlowScopeOptions.MaxSpansPerTrace): options.MaxSpansPerTrace = 0; break;
            case nameof(FlowScopeOptions.DashboardPath): options.DashboardPath = "flowscope/"; break;
        }

        var result = new FlowScopeOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("FlowScope:" + key, result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MyCompany.*", "MyCompany.Orders", true)]
    [InlineData("MyCompany.*", "mycompany.orders.worker", true)]
    [InlineData("MyCompany.*", "MyCompanyX", false)]
    [InlineData("*.Queue", "Orders.Queue", true)]
    [InlineData("A*B*C", "AxxBxxC", true)]
    [InlineData("A*B*C", "AxxBxx", false)]
    public void Source_patterns_use_star_wildcards(string pattern, string source, bool matches)
    {
        Assert.Equal(matches, new ActivitySourceFilter([pattern]).Matches(source));
    }

    [Fact]
    public void ASP_NET_Core_HttpClient_and_FlowScope_sources_are_always_captured()
    {
        var filter = new ActivitySourceFilter([]);
        Assert.True(filter.Matches("Microsoft.AspNetCore"));
        Assert.True(filter.Matches("System.Net.Http"));
        Assert.True(filter.Matches("FlowScope.Queues"));
        Assert.False(filter.Matches("Experimental.System.Net.Sockets"));
    }

    private static QueryCollection Query(params (string Key, string Value)[] pairs) =>
        new(pairs.ToDictionary(p => p.Key, p => new StringValues(p.Value)));

    [Fact]
    public void A_full_query_string_is_parsed()
    {
        Assert.True(QueryParser.TryParse(
            Query(("name", "orders"), ("status", "error"), ("minDurationMs", "1.5"), ("maxDurationMs", "200"), ("q", "A-1"),
                ("from", "2026-11-22T10:00:00Z"), ("to", "1800000000000"), ("limit", "20"), ("cursor", "1-abc")),
            out var query,
            out var error));

        Assert.Null(error);
        Assert.Equal("orders", query.Name);
        Assert.Equal(TraceStatusFilter.Error, query.Status);
        Assert.Equal(TimeSpan.FromMilliseconds(1.5), query.MinDuration);
        Assert.Equal(TimeSpan.FromMilliseconds(200), query.MaxDuration);
        Assert.Equal("A-1", query.Text);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero), query.From);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1800000000000), query.To);
        Assert.Equal(20, query.Limit);
        Assert.Equal("1-abc", query.Cursor);
    }

    [Theory]
    [InlineData("status", "broken", "status")]
    [InlineData("limit", "0", "limit")]
    [InlineData("limit", "5000", "limit")]
    [InlineData("limit", "ten", "limit")]
    [InlineData("minDurationMs", "-1", "minDurationMs")]
    [InlineData("maxDurationMs", "NaN", "maxDurationMs")]
    [InlineData("from", "yesterday", "from")]
    [InlineData("to", "99999999999999999999", "to")]
    [InlineData("colour", "red", "colour")]
    [InlineData("sort", "sideways", "sort")]
    [InlineData("attr", "=value", "attr")]
    public void A_bad_parameter_is_refused_by_name(string key, string value, string expected)
    {
        Assert.False(QueryParser.TryParse(Query((key, value)), out _, out var error));
        Assert.Equal(expected, error!.Parameter);
        Assert.Contains(expected, error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Contradictory_ranges_are_refused()
    {
        Assert.False(QueryParser.TryParse(Query(("minDurationMs", "10"), ("maxDurationMs", "5")), out _, out var error));
        Assert.Equal("minDurationMs", error!.Parameter);
        Assert.False(QueryParser.TryParse(Query(("from", "2026-11-22T10:00:00Z"), ("to", "2026-11-21T10:00:00Z")), out _, out error));
        Assert.Equal("from", error!.Parameter);
    }

    [Fact]
    public void Overlong_search_text_is_refused()
    {
        Assert.False(QueryParser.TryParse(Query(("q", new string('a', 300))), out _, out var error));
        Assert.Equal("q", error!.Parameter);
    }
}
