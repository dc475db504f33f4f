using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using FlowScope.Embedded.Dashboard;
using FlowScope.Embedded.Faults;
using FlowScope.Embedded.Simulators;
using FlowScope.Embedded.Simulators.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace FlowScope.Embedded.Operator;

/// <summary>
/// The operator API: who may act (<c>api/operator</c>), fault injection (<c>api/faults</c>) and simulators
/// (<c>api/simulators</c>). Reading is open to whoever may view the dashboard; every change is a POST or DELETE that
/// <see cref="OperatorAccess"/> authorizes (operator permission + antiforgery) and logs.
/// </summary>
internal static class OperatorEndpoints
{
    /// <summary>The largest request body an operator action accepts.</summary>
    internal const long MaxBodyBytes = 16 * 1024;

    public static void Map(IEndpointRouteBuilder group, Func<RequestDelegate, RequestDelegate> guard)
    {
        group.MapGet("/api/operator", guard(GetOperatorAsync)).WithDisplayName("FlowScope API: operator");
        group.MapGet("/api/faults", guard(ListFaultsAsync)).WithDisplayName("FlowScope API: faults");
        group.MapPost("/api/faults", guard(AddFaultAsync)).WithDisplayName("FlowScope API: inject fault");
        group.MapDelete("/api/faults", guard(ClearFaultsAsync)).WithDisplayName("FlowScope API: stop all faults");
        group.MapDelete("/api/faults/{id}", guard(RemoveFaultAsync)).WithDisplayName("FlowScope API: stop fault");
        group.MapGet("/api/simulators", guard(ListSimulatorsAsync)).WithDisplayName("FlowScope API: simulators");
        group.MapPost("/api/simulators", guard(SetSimulatorAsync)).WithDisplayName("FlowScope API: control simulator");
    }

    private static async Task GetOperatorAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var verdict = await services.GetRequiredService<OperatorAccess>().CheckAsync(context).ConfigureAwait(false);
        AntiforgeryDto? antiforgery = null;
        if (verdict.Allowed)
        {
            var tokens = OperatorAccess.IssueToken(context);
            antiforgery = new AntiforgeryDto(tokens.HeaderName ?? "RequestVerificationToken", tokens.RequestToken ?? string.Empty);
        }

        var response = new OperatorResponse(verdict.Allowed, verdict.Reason, services.GetRequiredService<FaultInjector>().Enabled, antiforgery);
        await DashboardEndpoints.WriteJsonAsync(context, response, DashboardJsonContext.Default.OperatorResponse).ConfigureAwait(false);
    }

    private static Task ListFaultsAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var faults = services.GetRequiredService<FaultInjector>();
        var response = faults.Enabled
            ? new FaultListResponse(true, faults.Time.GetUtcNow(), FaultTargets.List(services).Select(t => new FaultTargetDto(t.Kind, t.Name)).ToArray(), faults.List().Select(FaultDto.From).ToArray())
            : new FaultListResponse(false, faults.Time.GetUtcNow(), [], []);
        return DashboardEndpoints.WriteJsonAsync(context, response, DashboardJsonContext.Default.FaultListResponse);
    }

    private static async Task AddFaultAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var faults = services.GetRequiredService<FaultInjector>();
        if (!await RefuseIfDisabledAsync(context, faults).ConfigureAwait(false) || !await AuthorizeAsync(context).ConfigureAwait(false))
        {
            return;
        }

        var (body, ok) = await ReadBodyAsync(context, DashboardJsonContext.Default.FaultRequestBody).ConfigureAwait(false);
        if (!ok)
        {
            return;
        }

        var request = FaultRequest.Validate(body, out var parameter, out var error);
        if (request is null)
        {
            await DashboardEndpoints.WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Invalid fault", error!, parameter).ConfigureAwait(false);
            return;
        }

        var targets = FaultTargets.List(services);
        if (!FaultTargets.IsKnown(targets, request.Kind, request.Component))
        {
            var known = targets.Where(t => t.Kind == request.Kind).Select(t => t.Name).Take(20).ToArray();
            var hint = request.Kind switch
            {
                FaultKind.Middleware or FaultKind.Endpoint => " Middleware and endpoints need FlowScope:CaptureMiddleware=true.",
                FaultKind.Worker => " A worker is known once it has started or run a unit of work.",
                _ => " Queues are those added with AddQueue.",
            };
            var detail = known.Length == 0
                ? $"This app has no {request.Kind} FlowScope can inject into yet.{hint}"
                : $"No {request.Kind} named '{request.Component}'. Known: {string.Join(", ", known)}.{hint}";
            await DashboardEndpoints.WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Unknown component", detail, "component").ConfigureAwait(false);
            return;
        }

        if (!faults.TryAdd(request, out var fault))
        {
            await DashboardEndpoints.WriteProblemAsync(context, StatusCodes.Status409Conflict, "Too many faults", $"At most {FaultInjector.MaxActive} injections can be active; stop one first.", null).ConfigureAwait(false);
            return;
        }

        services.GetRequiredService<OperatorAccess>().Audit(context, "fault injected", Describe(fault!));
        context.Response.StatusCode = StatusCodes.Status201Created;
        context.Response.Headers.Location = context.Request.PathBase.Add(context.Request.Path).Value + "/" + fault!.Id;
        await DashboardEndpoints.WriteJsonAsync(context, FaultDto.From(fault), DashboardJsonContext.Default.FaultDto).ConfigureAwait(false);
    }

    private static async Task RemoveFaultAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var faults = services.GetRequiredService<FaultInjector>();
        if (!await RefuseIfDisabledAsync(context, faults).ConfigureAwait(false) || !await AuthorizeAsync(context).ConfigureAwait(false))
        {
            return;
        }

        var id = context.Request.RouteValues["id"] as string ?? string.Empty;
        if (!faults.Remove(id))
        {
            await DashboardEndpoints.WriteProblemAsync(context, StatusCodes.Status404NotFound, "Fault not found", $"No active fault '{id}'; it may have ended already.", "id").ConfigureAwait(false);
            return;
        }

        services.GetRequiredService<OperatorAccess>().Audit(context, "fault stopped", id);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task ClearFaultsAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var faults = services.GetRequiredService<FaultInjector>();
        if (!await RefuseIfDisabledAsync(context, faults).ConfigureAwait(false) || !await AuthorizeAsync(context).ConfigureAwait(false))
        {
            return;
        }

        var count = faults.Clear();
        services.GetRequiredService<OperatorAccess>().Audit(context, "all faults stopped", count.ToString(CultureInfo.InvariantCulture) + " stopped");
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static Task ListSimulatorsAsync(HttpContext context)
    {
        var host = context.RequestServices.GetRequiredService<SimulatorHost>();
        var response = new SimulatorListResponse(host.Runners.Select(r => r.Snapshot()).ToArray());
        return DashboardEndpoints.WriteJsonAsync(context, response, DashboardJsonContext.Default.SimulatorListResponse);
    }

    private static async Task SetSimulatorAsync(HttpContext context)
    {
        var services = context.RequestServices;
        if (!await AuthorizeAsync(context).ConfigureAwait(false))
        {
            return;
        }

        var (body, ok) = await ReadBodyAsync(context, DashboardJsonContext.Default.SimulatorRequestBody).ConfigureAwait(false);
        if (!ok)
        {
            return;
        }

        if (body is null || string.IsNullOrWhiteSpace(body.Name))
        {
            await DashboardEndpoints.WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Invalid simulator request", "Send {\"name\":\"...\",\"running\":true} and/or \"ratePerSecond\".", "name").ConfigureAwait(false);
            return;
        }

        var runner = services.GetRequiredService<SimulatorHost>().Find(body.Name);
        if (runner is null)
        {
            await DashboardEndpoints.WriteProblemAsync(context, StatusCodes.Status404NotFound, "Simulator not found", $"No simulator named '{body.Name}' is registered; GET api/simulators lists them.", "name").ConfigureAwait(false);
            return;
        }

        if (body.Running is null && body.RatePerSecond is null)
        {
            await DashboardEndpoints.WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Invalid simulator request", "Say what to change: \"running\" (true or false) and/or \"ratePerSecond\".", "running").ConfigureAwait(false);
            return;
        }

        if (body.RatePerSecond is { } rate && (!double.IsFinite(rate) || rate < SimulatorOptions.MinRatePerSecond || rate > runner.MaxRate))
        {
            await DashboardEndpoints.WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Invalid simulator request", $"ratePerSecond must be between {SimulatorOptions.MinRatePerSecond} and {runner.MaxRate.ToString(CultureInfo.InvariantCulture)} for '{runner.Name}'.", "ratePerSecond").ConfigureAwait(false);
            return;
        }

        runner.Set(body.Running, body.RatePerSecond);
        var detail = $"{runner.Name}: {(body.Running is { } running ? (running ? "start" : "stop") : "pace")}{(body.RatePerSecond is { } r ? $" at {r.ToString(CultureInfo.InvariantCulture)}/s" : string.Empty)}";
        services.GetRequiredService<OperatorAccess>().Audit(context, "simulator", detail);
        await DashboardEndpoints.WriteJsonAsync(context, runner.Snapshot(), DashboardJsonContext.Default.SimulatorSnapshot).ConfigureAwait(false);
    }

    private static async Task<bool> RefuseIfDisabledAsync(HttpContext context, FaultInjector faults)
    {
        if (faults.Enabled)
        {
            return true;
        }

        await DashboardEndpoints.WriteProblemAsync(
            context,
            StatusCodes.Status403Forbidden,
            "Fault injection is disabled",
            "Set FlowScope:EnableFaultInjection=true (for example in appsettings.Development.json) to let operators inject faults.",
            null).ConfigureAwait(false);
        return false;
    }

    private static Task<bool> AuthorizeAsync(HttpContext context) =>
        context.RequestServices.GetRequiredService<OperatorAccess>().AuthorizeActionAsync(context);

    private static async Task<(T? Body, bool Ok)> ReadBodyAsync<T>(HttpContext context, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        var request = context.Request;
        if (!request.HasJsonContentType())
        {
            await DashboardEndpoints.WriteProblemAsync(context, StatusCodes.Status415UnsupportedMediaType, "JSON expected", "Send the body as application/json.", "body").ConfigureAwait(false);
            return (null, false);
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            await DashboardEndpoints.WriteProblemAsync(context, StatusCodes.Status413PayloadTooLarge, "Body too large", $"Operator requests are at most {MaxBodyBytes} bytes.", "body").ConfigureAwait(false);
            return (null, false);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes;
        }

        try
        {
            return (await request.ReadFromJsonAsync(typeInfo, context.RequestAborted).ConfigureAwait(false), true);
        }
        catch (JsonException ex)
        {
            await DashboardEndpoints.WriteProblemAsync(context, StatusCodes.Status400BadRequest, "Invalid JSON", $"The body is not valid JSON for this request{(ex.Path is { Length: > 1 } path ? $" (at {path})" : string.Empty)}.", ex.Path is { Length: > 2 } p ? p.TrimStart('$', '.') : "body").ConfigureAwait(false);
            return (null, false);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await DashboardEndpoints.WriteProblemAsync(context, StatusCodes.Status413PayloadTooLarge, "Body too large", $"Operator requests are at most {MaxBodyBytes} bytes.", "body").ConfigureAwait(false);
            return (null, false);
        }
    }

    private static string Describe(ActiveFault fault)
    {
        var parts = new List<string> { $"{fault.Id} on {fault.Kind} '{fault.Component}'" };
        if (fault.MaxDelay > TimeSpan.Zero)
        {
            parts.Add(fault.MaxDelay > fault.MinDelay ? $"delay {fault.MinDelay.TotalMilliseconds}-{fault.MaxDelay.TotalMilliseconds} ms" : $"delay {fault.MinDelay.TotalMilliseconds} ms");
        }

        if (fault.FailureRate > 0)
        {
            parts.Add($"failure rate {fault.FailureRate.ToString("0.###", CultureInfo.InvariantCulture)}");
        }

        parts.Add(fault.ExpiresAt is { } expires ? $"until {expires:O}" : "no time limit");
        if (fault.MaxHits is { } hits)
        {
            parts.Add($"for {hits} hits");
        }

        return string.Join(", ", parts);
    }
}

internal sealed record OperatorResponse(bool CanOperate, string? Reason, bool FaultInjection, AntiforgeryDto? Antiforgery);

internal sealed record AntiforgeryDto(string HeaderName, string Token);

/// <summary>The fault list; <c>Now</c> is the server's clock, so a browser can count time left without trusting its own.</summary>
internal sealed record FaultListResponse(bool Enabled, DateTimeOffset Now, IReadOnlyList<FaultTargetDto> Targets, IReadOnlyList<FaultDto> Faults);

internal sealed record FaultTargetDto(string Kind, string Name);

internal sealed record FaultDto(
    string Id,
    string Kind,
    string Component,
    double DelayMs,
    double MaxDelayMs,
    double FailureRate,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    long? MaxHits,
    long Hits,
    long DelaysInjected,
    long FailuresInjected)
{
    public static FaultDto From(ActiveFault f) => new(
        f.Id, f.Kind, f.Component, f.MinDelay.TotalMilliseconds, f.MaxDelay.TotalMilliseconds, f.FailureRate, f.CreatedAt,
        f.ExpiresAt, f.MaxHits, f.Hits, f.DelaysInjected, f.FailuresInjected);
}

internal sealed record SimulatorListResponse(IReadOnlyList<SimulatorSnapshot> Simulators);

internal sealed record SimulatorRequestBody(string? Name, bool? Running, double? RatePerSecond);
