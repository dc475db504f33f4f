#!/usr/bin/env bash
# Retention under heavy traffic: the overhead app's /mixed routes (twenty routes of very uneven traffic, 1 % of
# requests failing and 0.5 % slow) at saturation, in two configurations side by side (both pinned to CPU 0, wrk on
# CPU 1, alternating windows): "policy" (FlowScope's default retention) and "newest" (retention shares set to 0: the
# store keeps only the newest traces). Both use the same memory cap.
#
#   bench/retention.sh            # 20 windows of 30 s each: 10 minutes of load for each configuration
#   bench/retention.sh --quick    # 4 windows of 15 s
#
# Then, on the policy app: of the requests that failed (and were slow) during its run, how many traces are still
# retrievable (a sample of 300 each, looked up by path); how many routes hold at least one trace; whether the store
# stayed within its cap at every window. Last line:
#   RESULT errors_kept=<0..1> slow_kept=<0..1> routes_kept=<0..1> within_cap=<0|1> cost_vs_newest=<ratio>
# cost_vs_newest is the median req/s of "policy" over the median of "newest" (their windows alternate).
# Needs wrk and python3.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WINDOWS=20; DUR=30
[[ "${1:-}" == "--quick" ]] && { WINDOWS=4; DUR=15; }
# A cap the errors of ten saturated minutes fit in (1 % of ~10 000 req/s × 600 s ≈ 60 000 error traces in a quarter of it).
CAP_MB=${CAP_MB:-160}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$ROOT/bench/results/retention-$STAMP"
mkdir -p "$OUT"
dotnet build -c Release "$ROOT/bench/FlowScope.Embedded.Overhead" -nologo -v q >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
DLL="$ROOT/bench/FlowScope.Embedded.Overhead/bin/Release/net10.0/FlowScope.Embedded.Overhead.dll"

# shellcheck source=side-by-side.sh
source "$ROOT/bench/side-by-side.sh"
start_side a "policy:flowscope:FlowScope__MaxStoreMegabytes=$CAP_MB" "$DLL" /minimal
start_side b "newest:flowscope:FlowScope__MaxStoreMegabytes=$CAP_MB FlowScope__Retention__ErrorShare=0 FlowScope__Retention__SlowShare=0 FlowScope__Retention__SampleShare=0" "$DLL" /minimal

within_cap=1
echo "window config req/s memoryMB" | tee "$OUT/windows.txt"
for w in $(seq 1 "$WINDOWS"); do
  for k in a b; do
    o=$(taskset -c 1 wrk -t2 -c32 -d"${DUR}s" -s "$ROOT/bench/retention.lua" "http://127.0.0.1:${PORT[$k]}")
    rps=$(awk '/Requests\/sec/{printf "%.0f", $2}' <<<"$o")
    stats=$(curl -sf "http://127.0.0.1:${PORT[$k]}/_flowscope/api/stats")
    mem=$(python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["memoryBytes"], s["memoryCapacityBytes"])' <<<"$stats")
    read -r used cap <<<"$mem"
    [[ $k == a && $used -gt $cap ]] && within_cap=0
    echo "$w ${LABEL[$k]} $rps $((used / 1048576))" | tee -a "$OUT/windows.txt"
  done
done

curl -sf "http://127.0.0.1:${PORT[a]}/__bench/mixed" >"$OUT/mixed.txt"
curl -sf "http://127.0.0.1:${PORT[a]}/_flowscope/api/routes" >"$OUT/routes.json"
curl -sf "http://127.0.0.1:${PORT[a]}/_flowscope/api/stats" >"$OUT/stats.json"
python3 - "$OUT" "${PORT[a]}" "$ROOT/bench/retention.lua" <<'PY' | tee "$OUT/result.txt"
import json, random, re, statistics, sys, urllib.parse, urllib.request
out, port, lua = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(lua).read()
routes = re.search(r'local routes = \{(.*?)\}', text, re.S).group(1)
routes = re.findall(r'"(\w+)"', routes)
bounds = [int(b) for b in re.search(r'local bounds = \{(.*?)\}', text, re.S).group(1).split(',')]
def route_of(n):
    r = (n % 1000000000000) % 10000
    return next(routes[i] for i, b in enumerate(bounds) if r < b)
lines = dict(l.split(' ', 1) for l in open(f"{out}/mixed.txt").read().strip().split('\n') if ' ' in l)
def kept(numbers):
    sample = random.Random(7).sample(numbers, min(300, len(numbers)))
    found = 0
    for n in sample:
        path = f"/mixed/{route_of(n)}/{n}"
        q = urllib.parse.urlencode({"q": path, "attr": f"url.path={path}", "limit": 5})
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_flowscope/api/traces?{q}") as r:
            found += 1 if json.load(r)["traces"] else 0
    return found / len(sample) if sample else 1.0
errors = [int(x) for x in lines.get("errors", "").split()]
slow = [int(x) for x in lines.get("slow", "").split()]
routes_json = json.load(open(f"{out}/routes.json"))["routes"]
mixed = [r for r in routes_json if r["route"].startswith("GET /mixed/")]
routes_kept = sum(1 for r in mixed if r["kept"] > 0) / max(1, len(mixed))
windows = [l.split() for l in open(f"{out}/windows.txt").read().strip().split('\n')[1:]]
policy = statistics.median(int(w[2]) for w in windows if w[1] == "policy")
newest = statistics.median(int(w[2]) for w in windows if w[1] == "newest")
print(f"errors served {len(errors)}, slow served {len(slow)}, routes seen {len(mixed)}, policy {policy} req/s, newest {newest} req/s")
print(f"ERRORS_KEPT {kept(errors):.3f} SLOW_KEPT {kept(slow):.3f} ROUTES_KEPT {routes_kept:.3f} COST {policy / newest:.3f}")
PY
read -r errors_kept slow_kept routes_kept cost < <(awk '/^ERRORS_KEPT/{print $2, $4, $6, $8}' "$OUT/result.txt")
echo "(load $(cut -d' ' -f1 /proc/loadavg))"
echo "RESULT errors_kept=$errors_kept slow_kept=$slow_kept routes_kept=$routes_kept within_cap=$within_cap cost_vs_newest=$cost"
