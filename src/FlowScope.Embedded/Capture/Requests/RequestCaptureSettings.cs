using FlowScope.Embedded.Metrics;
using Microsoft.AspNetCore.Http;

namespace FlowScope.Embedded.Capture;

/// <summary>What request capture needs from the options, read once.</summary>
internal readonly record struct RequestCaptureSettings(PathString DashboardPath, int MaxEventsPerSpan, RequestMetrics? Metrics = null, Redactor? Redactor = null);
