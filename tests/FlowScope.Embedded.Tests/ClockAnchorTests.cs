using System.Diagnostics;
using FlowScope.Embedded.Capture;

namespace FlowScope.Embedded.Tests;

/// <summary>
/// Request times come from stopwatch timestamps mapped to UTC through a shared anchor (one wall-clock read per
/// <see cref="ClockAnchor.RenewAfter"/> instead of one per request). The mapping must agree with the wall clock and
/// keep the stopwatch's intervals exactly.
/// </summary>
public sealed class ClockAnchorTests
{
    [Fact]
    public void A_timestamp_of_now_maps_to_the_wall_clock_time_of_now()
    {
        var before = DateTime.UtcNow;
        var mapped = ClockAnchor.UtcAt(Stopwatch.GetTimestamp());
        var after = DateTime.UtcNow;

        // The anchor may be up to RenewAfter old; the mapping keeps its error to the clocks' drift in that time.
        Assert.InRange(mapped, before - TimeSpan.FromMilliseconds(5), after + TimeSpan.FromMilliseconds(5));
        Assert.Equal(DateTimeKind.Utc, mapped.Kind);
    }

    [Fact]
    public void Intervals_between_timestamps_are_kept_exactly()
    {
        var start = Stopwatch.GetTimestamp();
        var end = start + (Stopwatch.Frequency / 1_000 * 37); // 37 ms later
        var startUtc = ClockAnchor.UtcAt(start);
        var endUtc = ClockAnchor.UtcAt(end);

        Assert.Equal(TimeSpan.FromMilliseconds(37).TotalMilliseconds, (endUtc - startUtc).TotalMilliseconds, precision: 3);
    }

    [Fact]
    public void A_timestamp_past_the_anchor_lifetime_renews_it_and_still_maps_correctly()
    {
        var now = Stopwatch.GetTimestamp();
        var later = now + (long)(ClockAnchor.RenewAfter.TotalSeconds * 3 * Stopwatch.Frequency);

        // Mapping a time three anchor lifetimes ahead renews the anchor (read at "now"), then maps from it.
        var mapped = ClockAnchor.UtcAt(later);
        var expected = DateTime.UtcNow + Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), later);

        Assert.InRange((mapped - expected).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(5));
        Assert.InRange((ClockAnchor.UtcAt(Stopwatch.GetTimestamp()) - DateTime.UtcNow).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(5));
    }
}
