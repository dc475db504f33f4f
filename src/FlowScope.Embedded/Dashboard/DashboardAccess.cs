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
/// authorization (401/403 by its rules); <see cref="FlowScopeOptions.AllowRemoteDashboard"/> allows everyone;
/// loopback callers are allowed; with <see cref="FlowScopeOptions.EnableAccessToken"/> a caller holding the start-up token (link
/// or cookie) is allowed. Everyone else gets 404 — or 401 when a token could open it. A request admitted because it
/// comes from loopback must also name a loopback host or a listed one (<see cref="HostCheck"/>), and with hosts listed
/// every admitted request must: otherwise 421.
/// </summary>
internal sealed class DashboardAccess
{
    internal const string CookieName = "FlowScope.Access";
    internal const string QueryName = "access_token";

    private readonly FlowScopeOptions _options;
    private readonly ILogger _logger;
    private readonly byte[]? _token;
    private readonly HostCheck _hosts;
    private int _hostRefusals;
    private int _forwardedRefusals;

    public DashboardAccess(IOptions<FlowScopeOptions> options, ILoggerFactory loggerFactory)
    {
        _options = options.Value;
        _logger = loggerFactory.CreateLogger("FlowScope.Embedded.Dashboard");
        _hosts = new HostCheck(_options.DashboardAllowedHosts);
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
        HostNotAllowed,
    }

    public Decision Decide(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IAuthorizeData>() is not null)
        {
            return Admit(context, hostCheckRequired: false); // the app's policy already ran
        }

        if (_options.AllowRemoteDashboard)
        {
            return Admit(context, hostCheckRequired: false); // opened to every caller, by whatever name they use
        }

        if (IsLocal(context))
        {
            // Being on this machine is the caller's only credential here, and a DNS-rebinding page is on this machine
            // too: its requests name its own domain, never a loopback name.
            return Admit(context, hostCheckRequired: true);
        }

        if (_token is not null)
        {
            if (Matches(context.Request.Cookies[CookieName]))
            {
                return Admit(context, hostCheckRequired: false);
            }

            if (Matches(context.Request.Query[QueryName].ToString()))
            {
                return Admit(context, hostCheckRequired: false) == Decision.Allow ? Decision.RedirectWithCookie : Decision.HostNotAllowed;
            }

            return Decision.Unauthorized;
        }

        Log.RemoteRefused(_logger, context.Connection.RemoteIpAddress?.ToString());
        return Decision.NotFound;
    }

    private Decision Admit(HttpContext context, bool hostCheckRequired)
    {
        if ((!hostCheckRequired && !_hosts.IsListed) || _hosts.Allows(context.Request.Host))
        {
            return Decision.Allow;
        }

        var host = context.Request.Host.Host;
        if (Interlocked.Exchange(ref _hostRefusals, 1) == 0)
        {
            DashboardLog.HostRefusedFirst(_logger, host);
        }
        else
        {
            DashboardLog.HostRefused(_logger, host);
        }

        return Decision.HostNotAllowed;
    }

    /// <summary>Trades a valid link for a cookie and sends the browser to the same page without the token.</summary>
    public void SetCookieAndRedirect(HttpContext context)
    {
        var request = context.Request;
        var full = request.PathBase.Add(request.Path).Value ?? "/";
        context.Response.Cookies.Append(CookieName, Token!, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = request.IsHttps,
            // At the dashboard's root ("…/_flowscope/") no Path attribute makes the browser scope the cookie to the
            // dashboard as it sees it, with whatever prefix a proxy stripped on the way.
            Path = full.EndsWith('/') && DashboardRoot(full).Length + 1 == full.Length ? null : DashboardRoot(full),
            IsEssential = true,
        });

        // Relative, like the trailing-slash redirect: "./?trace=…" or "page?trace=…" keeps any stripped prefix.
        var query = QueryString.Create(request.Query.Where(q => q.Key != QueryName).SelectMany(q => q.Value.Select(v => KeyValuePair.Create(q.Key, v))));
        var last = full[(full.LastIndexOf('/') + 1)..];
        context.Response.Redirect((last.Length == 0 ? "./" : last) + query.ToUriComponent());
    }

    /// <summary>The cookie is for the dashboard only: its path is everything up to and including the dashboard path.</summary>
    private string DashboardRoot(string full)
    {
        var at = full.IndexOf(_options.DashboardPath, StringComparison.OrdinalIgnoreCase);
        return at >= 0 ? full[..(at + _options.DashboardPath.Length)] : "/";
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

    /// <summary>
    /// Loopback, or an in-process caller without a remote address (test servers, named pipes, Unix sockets) — unless
    /// the request still carries a proxy's forwarding headers: then it came through a proxy on this machine whose
    /// client may be anywhere. <c>UseForwardedHeaders()</c> consumes those headers and sets the client's address.
    /// </summary>
    internal bool IsLocal(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        if (remote is not null && !IPAddress.IsLoopback(remote))
        {
            return false;
        }

        var forwarded = ForwardingHeader(context.Request.Headers);
        if (forwarded is null)
        {
            return true;
        }

        if (Interlocked.Exchange(ref _forwardedRefusals, 1) == 0)
        {
            DashboardLog.ForwardedLoopback(_logger, forwarded);
        }

        return false;
    }

    /// <summary>A caller on this machine, through a host name no other site can rebind (operators without a policy).</summary>
    internal bool IsLocalOperator(HttpContext context) => IsLocal(context) && _hosts.Allows(context.Request.Host);

    private static string? ForwardingHeader(IHeaderDictionary headers) =>
        headers.ContainsKey("X-Forwarded-For") ? "X-Forwarded-For"
        : headers.ContainsKey("Forwarded") ? "Forwarded"
        : null;
}
