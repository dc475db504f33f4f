using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace FlowScope.Embedded.Capture;

/// <summary>
/// Added by <c>UseFlowScope</c>. Makes sure the request carries FlowScope's <see cref="HttpRequestInfo"/> (the
/// pipeline stages may already have attached it) and notes an exception that leaves the pipeline unhandled.
/// Marks FlowScope's own dashboard requests so they are never recorded. No I/O. It neither awaits nor rethrows, so an
/// exception on its way to the app's error handler carries no frame of FlowScope's.
/// </summary>
internal sealed class RequestCaptureMiddleware
{
    private readonly RequestDelegate _next;
    private readonly RequestCaptureSettings _settings;

    public RequestCaptureMiddleware(RequestDelegate next, RequestCaptureSettings settings)
    {
        _next = next;
        _settings = settings;
    }

    [StackTraceHidden]
    public Task InvokeAsync(HttpContext context)
    {
        var info = HttpRequestInfo.For(context, _settings);
        if (info is null)
        {
            return _next(context);
        }

        Task task;
        try
        {
            task = _next(context);
        }
        catch (Exception ex)
        {
            info.Exception ??= ex;
            throw;
        }

        return task.IsCompletedSuccessfully ? task : UnhandledNote.Await(task, info);
    }

    /// <summary>Completes as the rest of the pipeline did, after noting the exception it left unhandled.</summary>
    private sealed class UnhandledNote(Task task, HttpRequestInfo info) : TaskCompletionSource
    {
        public static Task Await(Task task, HttpRequestInfo info)
        {
            var note = new UnhandledNote(task, info);
            task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(note.OnCompleted);
            return note.Task;
        }

        private void OnCompleted()
        {
            if (task.IsFaulted)
            {
                info.Exception ??= task.Exception!.InnerException;
            }
            else if (task.IsCanceled)
            {
                info.Exception ??= new TaskCanceledException(task);
            }

            TrySetFromTask(task);
        }
    }
}
