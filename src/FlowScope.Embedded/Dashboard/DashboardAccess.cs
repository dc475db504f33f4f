using System.Net;
using System.Security.Cryptography;
using System.Text;
using FlowScope.Embedded.Diagnostics;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Dashboard;

/// <summary>
/// Who may see the dashboard. In order: endpoints that require authorization are left to ASP.NET Core's
/// authorization (401/403 by its rules); loopback callers are allowed; <see cref="FlowScopeOptions.AllowRemoteDashboard"/>
/// allows everyone; with <see cref="FlowScopeOptions.EnableAccessToken"/> a caller holding the start-up token (link
/// or cookie) is allowed. Everyone else gets 404 — or 401 when a token could open it.
/// </summary>
internal sealed class DashboardAccess
{
    internal const string CookieName = "FlowScope.Access";
    internal const string QueryName = "access_token";

    private readonly FlowScopeOptions _options;
    private readonly ILogger _logger;
    private readonly byte[]? _token;

    public DashboardAccess(IOptions<FlowScopeOptions> options, ILoggerFactory loggerFactory)
    {
        _options = options.Value;
        _logger = loggerFactory.CreateLogger("FlowScope.Embedded.Dashboard");
        if (_options.Enabled && _options.EnableAccessToken)
        {
            _token = RandomNumberGenerator.GetBytes(24);
            Token = Convert.ToBase64String(_token).Replace('+', '-').Replace('/', '_').TrimEnd('=');
            Log.AccessLink(_logger, $"{_options.DashboardPath}/?{QueryName}={Token}");
        }
    }

    /// <summary>The start-up token, when enabled.</summary>
    internal string? Token { get; }

    public enum Decision
    {
        Allow,
        NotFound,
        Unauthorized,
        RedirectWithCookie,
    }

    public Decision Decide(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IAuthorizeData>() is not null)
        {
            return Decision.Allow; // the app's policy already ran
        }

        if (IsLocal(context) || _options.AllowRemoteDashboard)
        {
            return Decision.Allow;
        }

        if (_token is not null)
        {
            if (Matches(context.Request.Cookies[CookieName]))
            {
                return Decision.Allow;
            }

            if (Matches(context.Request.Query[QueryName].ToString()))
            {
                return Decision.RedirectWithCookie;
            }

            return Decision.Unauthorized;
        }

        Log.RemoteRefused(_logger, context.Connection.RemoteIpAddress?.ToString());
        return Decision.NotFound;
    }

    /// <summary>Trades a valid link for a cookie and sends the browser to the same page without the token.</summary>
    public void SetCookieAndRedirect(HttpContext context)
    {
        var request = context.Request;
        context.Response.Cookies.Append(CookieName, Token!, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = request.IsHttps,
            Path = request.PathBase.Add(request.Path).Value is { } path && path.Length > 0 ? DashboardRoot(request) : "/",
            IsEssential = true,
        });

        var query = QueryString.Create(request.Query.Where(q => q.Key != QueryName).SelectMany(q => q.Value.Select(v => KeyValuePair.Create(q.Key, v))));
        context.Response.Redirect(request.PathBase.Add(request.Path) + query.ToUriComponent());
    }

    private string DashboardRoot(HttpRequest request)
    {
        // The cookie is for the dashboard only: its path is everything up to and including the dashboard path.
        var full = request.PathBase.Add(request.Path).Value ?? "/";
        var at = full.IndexOf(_options.DashboardPath, StringComparison.OrdinalIgnoreCase);
        return at >= 0 ? full[..(at + _options.DashboardPath.Length)] : request.PathBase.HasValue ? request.PathBase.Value! : "/";
    }

    private bool Matches(string? candidate)
    {
        if (string.IsNullOrEmpty(candidate) || _token is null)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Token!);
        var actual = Encoding.ASCII.GetBytes(candidate);
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    /// <summary>Loopback, or an in-process caller without a remote address (test servers, named pipes).</summary>
    internal static bool IsLocal(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        return remote is null || IPAddress.IsLoopback(remote);
    }
}
