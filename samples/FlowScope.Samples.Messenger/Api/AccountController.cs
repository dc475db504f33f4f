using System.Security.Claims;
using FlowScope.Samples.Messenger.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace FlowScope.Samples.Messenger.Api;

/// <summary>Registration and cookie sign-in.</summary>
[ApiController]
[Route("api/account")]
internal sealed class AccountController : ControllerBase
{
    private readonly AccountService _accounts;

    public AccountController(AccountService accounts)
    {
        _accounts = accounts;
    }

    /// <summary>Creates an account, signs it in and puts it in #general.</summary>
    [HttpPost("register")]
    [AllowAnonymous]
    [EnableRateLimiting(RateLimits.Auth)]
    public async Task<IActionResult> Register(Credentials credentials)
    {
        var userName = Names.Normalize(credentials.UserName);
        var account = await _accounts.RegisterAsync(userName, credentials.Password);
        if (account is null)
        {
            return Problem(statusCode: StatusCodes.Status409Conflict, title: "Name taken", detail: $"The name '{userName}' is not available.");
        }

        await SignInAsync(account);
        return Created("/api/account/me", new { account.UserName });
    }

    /// <summary>Signs in with a name and password.</summary>
    [HttpPost("login")]
    [AllowAnonymous]
    [EnableRateLimiting(RateLimits.Auth)]
    public async Task<IActionResult> Login(SignIn credentials)
    {
        var account = await _accounts.VerifyAsync(Names.Normalize(credentials.UserName), credentials.Password);
        if (account is null)
        {
            return Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Sign-in failed", detail: "Unknown name or wrong password.");
        }

        await SignInAsync(account);
        return Ok(new { account.UserName });
    }

    [HttpPost("logout")]
    [Authorize]
    public async Task<IActionResult> Logout()
    {
        await HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return NoContent();
    }

    /// <summary>The signed-in user, or 401.</summary>
    [HttpGet("me")]
    [Authorize]
    public IActionResult Me() => Ok(new { UserName = User.Identity!.Name });

    private Task SignInAsync(UserAccount account)
    {
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, account.UserName)], CookieAuthenticationDefaults.AuthenticationScheme);
        return HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity),
            new AuthenticationProperties { IsPersistent = true });
    }
}
