using FlowScope.Embedded.Dashboard;
using FlowScope.Embedded.Diagnostics;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlowScope.Embedded.Operator;

/// <summary>
/// Who may take operator actions (inject faults, control simulators) and the antiforgery check every such action
/// passes. Viewing the dashboard is decided first by <see cref="DashboardAccess"/>; an operator is then a caller who
/// satisfies <see cref="FlowScopeOptions.OperatorAuthorizationPolicy"/>, or — without a policy — a loopback caller.
/// Operator actions are POST or DELETE requests with ASP.NET Core's antiforgery token in a header.
/// </summary>
internal sealed class OperatorAccess(IOptions<FlowScopeOptions> options, ILoggerFactory loggerFactory, DashboardAccess dashboard)
{
    private readonly string? _policy = options.Value.OperatorAuthorizationPolicy;
    private readonly ILogger _logger = loggerFactory.CreateLogger("FlowScope.Embedded.Operator");

    internal readonly record struct Verdict(bool Allowed, int Status, string? Reason);

    /// <summary>Decides whether the caller may operate; 401/403 with the reason otherwise.</summary>
    public async Task<Verdict> CheckAsync(HttpContext context)
    {
        if (_policy is null)
        {
            return dashboard.IsLocalOperator(context)
                ? new Verdict(true, StatusCodes.Status200OK, null)
                : new Verdict(false, StatusCodes.Status403Forbidden, "Operator actions are allowed from loopback only. Set FlowScope:OperatorAuthorizationPolicy to let signed-in operators act from elsewhere.");
        }

        // As the authorization middleware does it: the policy's own schemes authenticate the caller (an app may sign
        // operators in with a scheme that is not its default), then the policy decides.
        var services = context.RequestServices;
        var policy = await services.GetRequiredService<IAuthorizationPolicyProvider>().GetPolicyAsync(_policy).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"FlowScope:OperatorAuthorizationPolicy is '{_policy}' but no authorization policy has that name.");
        var evaluator = services.GetRequiredService<IPolicyEvaluator>();
        var authentication = await evaluator.AuthenticateAsync(policy, context).ConfigureAwait(false);
        var result = await evaluator.AuthorizeAsync(policy, authentication, context, context).ConfigureAwait(false);
        if (result.Succeeded)
        {
            return new Verdict(true, StatusCodes.Status200OK, null);
        }

        return result.Forbidden
            ? new Verdict(false, StatusCodes.Status403Forbidden, $"You are signed in but the operator policy '{_policy}' does not allow you to take operator actions.")
            : new Verdict(false, StatusCodes.Status401Unauthorized, $"Sign in: operator actions require the policy '{_policy}'.");
    }

    /// <summary>
    /// Runs an operator action: the caller must be an operator and the request must carry a valid antiforgery
    /// token. Writes the problem response and returns <see langword="false"/> when not.
    /// </summary>
    public async Task<bool> AuthorizeActionAsync(HttpContext context)
    {
        var verdict = await CheckAsync(context).ConfigureAwait(false);
        if (!verdict.Allowed)
        {
            await DashboardEndpoints.WriteProblemAsync(context, verdict.Status, verdict.Status == StatusCodes.Status401Unauthorized ? "Sign-in required" : "Not an operator", verdict.Reason!, null).ConfigureAwait(false);
            return false;
        }

        var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
        try
        {
            await antiforgery.ValidateRequestAsync(context).ConfigureAwait(false);
        }
        catch (AntiforgeryValidationException)
        {
            await DashboardEndpoints.WriteProblemAsync(
                context,
                StatusCodes.Status400BadRequest,
                "Antiforgery token missing or invalid",
                "Operator actions need the token from GET api/operator in the header it names, with the cookie it sets.",
                "antiforgery").ConfigureAwait(false);
            return false;
        }

        return true;
    }

    /// <summary>Issues the antiforgery token for the dashboard (and its cookie).</summary>
    public static AntiforgeryTokenSet IssueToken(HttpContext context) =>
        context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);

    /// <summary>Every operator action is logged: who changed the app's behaviour, and how.</summary>
    public void Audit(HttpContext context, string action, string detail)
    {
        var caller = context.User.Identity?.IsAuthenticated == true
            ? $"{context.User.Identity.Name} ({context.Connection.RemoteIpAddress})"
            : context.Connection.RemoteIpAddress?.ToString() ?? "in-process caller";
        Log.OperatorAction(_logger, action, detail, caller);
    }
}
