using FlowScope.Samples.Messenger.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.Infrastructure;

namespace FlowScope.Samples.Messenger.Api;

/// <summary>Answers 404 problem details before the action runs when the <c>{room}</c> of the route does not exist.</summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
internal sealed class RoomExistsAttribute : TypeFilterAttribute
{
    public RoomExistsAttribute()
        : base(typeof(RoomExistsFilter))
    {
    }
}

internal sealed class RoomExistsFilter(IChatStore store, ProblemDetailsFactory problems) : IAsyncActionFilter
{
    public async Task OnActionExecutionAsync(ActionExecutingContext context, ActionExecutionDelegate next)
    {
        var room = context.RouteData.Values["room"] as string;
        if (!Names.IsRoomName(room) || await store.FindRoomAsync(room!) is null)
        {
            var problem = problems.CreateProblemDetails(context.HttpContext, StatusCodes.Status404NotFound, "Unknown room",
                detail: $"There is no room '{(room is { Length: > 40 } ? room[..40] + "…" : room)}'.");
            context.Result = new ObjectResult(problem) { StatusCode = StatusCodes.Status404NotFound, ContentTypes = { "application/problem+json" } };
            return;
        }

        await next();
    }
}
