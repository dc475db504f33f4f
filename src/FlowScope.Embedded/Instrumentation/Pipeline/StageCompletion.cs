using FlowScope.Embedded.Capture;

namespace FlowScope.Embedded.Instrumentation.Pipeline;

/// <summary>
/// Ends a stage when its component's task completes, and completes the task handed back to the middleware before it
/// with the same outcome. No async method and no rethrow: an exception passes from the app's task to the app's caller
/// untouched, so its stack trace holds the app's frames and none of FlowScope's (an awaiting async method would add
/// its own frame, which <see cref="System.Diagnostics.StackTraceHiddenAttribute"/> does not hide).
/// </summary>
internal sealed class StageCompletion : TaskCompletionSource
{
    private readonly Task _task;
    private readonly HttpRequestInfo _info;
    private readonly int _index;

    // The caller's continuation runs inline when the stage ends, as it would after an await.
    private StageCompletion(Task task, HttpRequestInfo info, int index)
    {
        _task = task;
        _info = info;
        _index = index;
    }

    /// <summary>A task that completes as <paramref name="task"/> does, after stage <paramref name="index"/> (and those joined to it) ended.</summary>
    public static Task Await(Task task, HttpRequestInfo info, int index)
    {
        var completion = new StageCompletion(task, info, index);
        task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(completion.OnCompleted);
        return completion.Task;
    }

    private void OnCompleted()
    {
        var task = _task;
        _info.EndStageAndJoined(_index, task.IsFaulted ? task.Exception!.InnerException : task.IsCanceled ? new TaskCanceledException(task) : null);
        TrySetFromTask(task);
    }
}
