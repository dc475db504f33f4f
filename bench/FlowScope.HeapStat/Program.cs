// Heap snapshot of a running .NET process, for bench/soak.sh: attaches with ClrMD (the process is suspended while it
// is read), marks the objects reachable from the GC roots, and writes per type the live count and bytes (and the
// unreachable ones still on the heap, per segment kind). With --owners, also which types hold the objects whose type
// name contains the given text (the first referrer found while marking, as a heap dump's spanning tree does).
//
// Usage: FlowScope.HeapStat <pid> [--top 60] [--owners TEXT]... > snapshot.txt
using System.Globalization;
using Microsoft.Diagnostics.Runtime;

if (args.Length < 1 || !int.TryParse(args[0], CultureInfo.InvariantCulture, out var pid))
{
    Console.Error.WriteLine("usage: FlowScope.HeapStat <pid> [--top N] [--owners TEXT]...");
    return 2;
}

var top = 60;
var owners = new List<string>();
for (var i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--top": top = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--owners": owners.Add(args[++i]); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

var started = DateTime.UtcNow;
using var target = DataTarget.AttachToProcess(pid, suspend: true);
// The DAC ships beside the runtime it belongs to; ClrMD does not always find it on Linux by itself.
var clr = target.ClrVersions[0];
var dac = Path.Combine(Path.GetDirectoryName(clr.ModuleInfo.FileName) ?? "", "libmscordaccore.so");
using var runtime = File.Exists(dac) ? clr.CreateRuntime(dac, ignoreMismatch: true) : clr.CreateRuntime();
var heap = runtime.Heap;
if (!heap.CanWalkHeap)
{
    Console.Error.WriteLine("the heap cannot be walked right now (a GC is in progress?); try again");
    return 1;
}

// Mark from the roots.
var marked = new HashSet<ulong>();
var stack = new Stack<ulong>();
var ownerCounts = owners.ToDictionary(o => o, _ => new Dictionary<string, (long Count, long Bytes)>(StringComparer.Ordinal));
var typeNames = new Dictionary<ulong, string>();

string NameOf(ClrType? type)
{
    if (type is null)
    {
        return "<unknown>";
    }

    if (!typeNames.TryGetValue(type.MethodTable, out var name))
    {
        name = type.Name ?? "<unnamed>";
        typeNames[type.MethodTable] = name;
    }

    return name;
}

foreach (var root in heap.EnumerateRoots())
{
    var address = root.Object.Address;
    if (address != 0 && marked.Add(address))
    {
        stack.Push(address);
    }
}

while (stack.Count > 0)
{
    var address = stack.Pop();
    var obj = heap.GetObject(address);
    if (!obj.IsValid || obj.Type is null)
    {
        continue;
    }

    string? parentName = null;
    foreach (var child in obj.EnumerateReferenceAddresses(carefully: false, considerDependantHandles: true))
    {
        if (child == 0 || !marked.Add(child))
        {
            continue;
        }

        stack.Push(child);
        if (owners.Count > 0)
        {
            var childType = heap.GetObjectType(child);
            var childName = NameOf(childType);
            foreach (var owner in owners)
            {
                if (childName.Contains(owner, StringComparison.Ordinal))
                {
                    parentName ??= NameOf(obj.Type);
                    var counts = ownerCounts[owner];
                    var key = parentName + " -> " + childName;
                    counts.TryGetValue(key, out var c);
                    counts[key] = (c.Count + 1, c.Bytes + (long)heap.GetObject(child).Size);
                }
            }
        }
    }
}

// Walk every segment: live vs unreachable, per type, and unreachable bytes per segment kind.
var live = new Dictionary<string, (long Count, long Bytes)>(StringComparer.Ordinal);
var dead = new Dictionary<string, (long Count, long Bytes)>(StringComparer.Ordinal);
var bySegment = new Dictionary<string, (long Live, long Dead, long Free, long Committed)>(StringComparer.Ordinal);
long liveBytes = 0, liveCount = 0, deadBytes = 0, deadCount = 0, freeBytes = 0;
foreach (var segment in heap.Segments)
{
    var kind = segment.Kind.ToString();
    bySegment.TryGetValue(kind, out var s);
    s.Committed += (long)segment.CommittedMemory.Length;
    foreach (var obj in segment.EnumerateObjects())
    {
        if (!obj.IsValid)
        {
            continue;
        }

        var size = (long)obj.Size;
        if (obj.IsFree)
        {
            freeBytes += size;
            s.Free += size;
            continue;
        }

        var name = NameOf(obj.Type);
        if (marked.Contains(obj.Address))
        {
            live.TryGetValue(name, out var c);
            live[name] = (c.Count + 1, c.Bytes + size);
            liveBytes += size;
            liveCount++;
            s.Live += size;
        }
        else
        {
            dead.TryGetValue(name, out var c);
            dead[name] = (c.Count + 1, c.Bytes + size);
            deadBytes += size;
            deadCount++;
            s.Dead += size;
        }
    }

    bySegment[kind] = s;
}

var inv = CultureInfo.InvariantCulture;
Console.WriteLine(string.Create(inv, $"# pid {pid} at {started:O}, read in {(DateTime.UtcNow - started).TotalSeconds:F1} s, server GC: {heap.IsServer}, {heap.SubHeaps.Length} heap(s)"));
Console.WriteLine(string.Create(inv, $"# live {liveCount} objects {liveBytes / 1048576.0:F1} MB; unreachable (not yet collected) {deadCount} objects {deadBytes / 1048576.0:F1} MB; free {freeBytes / 1048576.0:F1} MB"));
Console.WriteLine("## segments: kind, live MB, unreachable MB, free MB, committed MB");
foreach (var (kind, s) in bySegment.OrderBy(p => p.Key, StringComparer.Ordinal))
{
    Console.WriteLine(string.Create(inv, $"{kind}\t{s.Live / 1048576.0:F1}\t{s.Dead / 1048576.0:F1}\t{s.Free / 1048576.0:F1}\t{s.Committed / 1048576.0:F1}"));
}

Console.WriteLine("## live types by bytes: bytes, count, type");
foreach (var (name, c) in live.OrderByDescending(p => p.Value.Bytes).Take(top))
{
    Console.WriteLine(string.Create(inv, $"{c.Bytes}\t{c.Count}\t{name}"));
}

Console.WriteLine("## unreachable types by bytes: bytes, count, type");
foreach (var (name, c) in dead.OrderByDescending(p => p.Value.Bytes).Take(Math.Min(top, 20)))
{
    Console.WriteLine(string.Create(inv, $"{c.Bytes}\t{c.Count}\t{name}"));
}

foreach (var owner in owners)
{
    Console.WriteLine($"## first referrers of types containing '{owner}': count, bytes, referrer -> type");
    foreach (var (key, c) in ownerCounts[owner].OrderByDescending(p => p.Value.Count).Take(top))
    {
        Console.WriteLine(string.Create(inv, $"{c.Count}\t{c.Bytes}\t{key}"));
    }
}

return 0;
