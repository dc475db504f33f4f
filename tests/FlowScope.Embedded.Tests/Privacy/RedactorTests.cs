using FlowScope.Embedded.Capture;
using FlowScope.Embedded.Dashboard;

namespace FlowScope.Embedded.Tests.Privacy;

/// <summary>The redaction rules log entries share with attributes, and the host names the dashboard answers to.</summary>
public sealed class RedactorTests
{
    private static readonly Redactor s_redactor = new(["tenant"], null);

    [Theory]
    [InlineData("Request starting HTTP/1.1 GET http://localhost/tags?password=p4ss&token=t0k&page=2 - - -", "Request starting HTTP/1.1 GET http://localhost/tags?password=[REDACTED]&token=[REDACTED]&page=2 - - -")]
    [InlineData("Calling \"https://x.example/a?api_key=abc\" now", "Calling \"https://x.example/a?api_key=[REDACTED]\" now")]
    [InlineData("callback https://app.example/cb#access_token=abc&state=xyz", "callback https://app.example/cb#access_token=[REDACTED]&state=xyz")]
    [InlineData("ids ?a=[1]&token=abc and ?b=1,2&secret=s3", "ids ?a=[1]&token=[REDACTED] and ?b=1,2&secret=[REDACTED]")]
    [InlineData("done ?password=[REDACTED]&x=1", "done ?password=[REDACTED]&x=1")]
    [InlineData("?TENANT=acme;sig=abc", "?TENANT=[REDACTED];sig=[REDACTED]")]
    [InlineData("Is this a question? Yes = no.", "Is this a question? Yes = no.")]
    [InlineData("issue #42 fixed", "issue #42 fixed")]
    public void Secret_parameters_are_redacted_wherever_a_query_appears_in_a_text(string text, string expected)
    {
        Assert.Equal(expected, s_redactor.RedactText(text));
        Assert.Equal(expected, s_redactor.RedactText(expected)); // already redacted text is kept as it is
    }

    [Fact]
    public void A_text_without_secrets_is_the_same_instance()
    {
        const string text = "GET /items?page=2&size=10";
        Assert.Same(text, s_redactor.RedactText(text));
    }

    [Theory]
    [InlineData("QueryString", "?code=abc&next=/home", "?code=[REDACTED]&next=/home")]
    [InlineData("RequestUri", "https://api.example/v1?sig=xyz", "https://api.example/v1?sig=[REDACTED]")]
    [InlineData("CallbackUrl", "token=abc&x=1", "token=[REDACTED]&x=1")]
    [InlineData("Authorization", "Bearer abc", "[REDACTED]")]
    [InlineData("Target", "see https://x?password=1", "see https://x?password=[REDACTED]")]
    [InlineData("Note", "see https://x?password=1 later", "see https://x?password=[REDACTED] later")]
    [InlineData("Path", "/users/42", "/users/42")]
    public void Log_properties_follow_the_rules_of_attributes(string name, string value, string expected) =>
        Assert.Equal(expected, s_redactor.LogValue(name, value));

    [Fact]
    public void A_JSON_body_keeps_its_shape_with_secret_fields_redacted_at_any_depth()
    {
        const string body = """{"user":{"email":"ada@example.com","accessToken":"eyJ.x.y","roles":["a"]},"items":[{"password":"p"},{"link":"https://x?token=t&a=1"}],"n":3}""";
        var kept = s_redactor.LogValue("ResponseBody", body);
        Assert.Equal("""{"user":{"email":"ada@example.com","accessToken":"[REDACTED]","roles":["a"]},"items":[{"password":"[REDACTED]"},{"link":"https://x?token=[REDACTED]\u0026a=1"}],"n":3}""", kept);
    }

    [Theory]
    [InlineData("""{"password":"cut off at the log lim""")]
    [InlineData("my token is abc")]
    [InlineData("<xml><password>p</password></xml>")]
    public void A_body_that_cannot_be_read_field_by_field_is_dropped_whole(string body) =>
        Assert.Equal(Redactor.Redacted, s_redactor.LogValue("Body", body));

    [Fact]
    public void A_form_body_has_its_secret_fields_redacted() =>
        Assert.Equal("user=ada&password=[REDACTED]&remember=1", s_redactor.LogValue("RequestBody", "user=ada&password=hunter2&remember=1"));

    [Fact]
    public void Attribute_URLs_keep_their_existing_rules()
    {
        Assert.Equal("page=2&token=[REDACTED]", s_redactor.Value("url.query", "page=2&token=abc"));
        Assert.Equal("https://x/a?page=2&token=[REDACTED]#frag", s_redactor.Value("url.full", "https://x/a?page=2&token=abc#frag"));
        Assert.Equal("plain", s_redactor.Value("url.query", "plain"));
    }

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("app.localhost", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.255.0.9", true)]
    [InlineData("[::1]", true)]
    [InlineData("localhost.", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("evil.example", false)]
    [InlineData("localhost.evil.example", false)]
    [InlineData("127.0.0.1.nip.io", false)]
    [InlineData("devbox", true)]
    [InlineData("a.b.corp.example", true)]
    [InlineData("corp.example", false)]
    [InlineData("[fe80::1]", true)]
    public void The_dashboard_answers_loopback_names_and_listed_hosts(string host, bool allowed)
    {
        var check = new HostCheck(["DevBox", "*.corp.example", "[fe80::1]"]);
        Assert.Equal(allowed, check.Allows(new Microsoft.AspNetCore.Http.HostString(host, 5091)));
    }

    [Theory]
    [InlineData("devbox:5091")]
    [InlineData("http://devbox")]
    [InlineData("devbox/path")]
    [InlineData("dev*box")]
    [InlineData(" ")]
    public void Host_list_entries_are_checked_at_start(string entry) =>
        Assert.Single(HostCheck.Validate([entry]));

    [Fact]
    public void Valid_host_list_entries_pass() =>
        Assert.Empty(HostCheck.Validate(["devbox", "*.corp.example", "*", "10.0.0.5", "::1", "[fe80::1]"]));
}
