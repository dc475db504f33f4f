#!/usr/bin/env bash
# End-to-end overhead harness (issue 8, item 2).
# Runs bench/FlowScope.Embedded.Overhead in three configurations -- baseline (no instrumentation), flowscope
# (AddFlowScope/UseFlowScope, defaults), otel (OpenTelemetry SDK, ASP.NET Core + HttpClient instrumentation,
# AlwaysOn, batch processor -> counting exporter) -- ALTERNATELY (A B C A B C ...) under wrk on loopback.
#
#   bench/overhead.sh           # full: JSON controller, minimal and queue endpoints 5 rounds each, 8 s windows (~12 min)
#   bench/overhead.sh --quick   # JSON controller 3 rounds + minimal/queue 1 round, 4 s windows (< 3 min)
#   bench/overhead.sh [--quick] --floor
#                               # adds a fourth configuration, "activity": an ActivityListener that only asks ASP.NET
#                               # Core for its request Activity (AllData) -- the floor every Activity-based tracer
#                               # starts from (reported beside the others; the RESULT line is unchanged)
#   bench/overhead.sh [--quick] --gc aspnet
#                               # every configuration with ASP.NET Core's default GC (server, concurrent) instead of
#                               # the project's workstation non-concurrent GC (DOTNET_gcServer=1 DOTNET_gcConcurrent=1)
#                               # Note: with the app pinned to one CPU the runtime falls back from server GC to
#                               # workstation GC, so this measures workstation *concurrent* GC; machine.txt records
#                               # what each app actually ran with (GET /__bench/gc).
#
# Per configuration: one app process (free port), warmed up on every endpoint and then until JIT compilation has
# settled (/__bench/jit). Per window: read CPU (utime+stime from /proc/<pid>/stat) and GC.GetTotalAllocatedBytes
# (/__bench/alloc, outside the measured pipeline), measured wrk window, read again.
# Last line: RESULT flowscope_vs_baseline=<r> otel_vs_baseline=<r> flowscope_vs_otel=<r> (JSON controller throughput).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ARGS="$*"
QUICK=0
GC_MODE=project
FLOOR=0
while (( $# )); do
  case "$1" in
    --quick) QUICK=1 ;;
    --floor) FLOOR=1 ;;
    --gc) GC_MODE="${2:?--gc needs project|aspnet}"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
# The same GC settings for all three configurations, always.
case "$GC_MODE" in
  project) GC_ENV=() ;;                                           # runtimeconfig: workstation, non-concurrent
  aspnet) GC_ENV=(DOTNET_gcServer=1 DOTNET_gcConcurrent=1) ;;      # ASP.NET Core's defaults
  *) echo "--gc must be project or aspnet" >&2; exit 2 ;;
esac

# Tiered compilation: every configuration runs with the runtime's tier-up delay set to 0. A process that sees one
# CPU (taskset) multiplies that delay by 10 and restarts it whenever a method is compiled at tier 0, so under load
# the apps ran PGO-instrumented code for 30-45 s before any method reached its final (tier-1) code, and throughput
# then rose by 1.5-3x (measured with DOTNET_PerfMapEnabled: no tier-1 method at all after 20 s). The final code is
# the same with the delay at 0; it is only reached within ~10 s, so the windows measure the steady state.
TIER_ENV=(DOTNET_TC_CallCountingDelayMs=0)

# WARM: seconds per endpoint before the JIT check; WARM_MAX: cap on the JIT-settling loop; JIT_QUIET: fewer newly
# compiled methods than this in a 2-s slice counts as settled.
if (( QUICK )); then
  DUR=4; WARM=2; WARM_MAX=20; JIT_QUIET=15
  PLAN=("json:3" "minimal:1" "queue:1")
else
  DUR=8; WARM=3; WARM_MAX=40; JIT_QUIET=5
  PLAN=("json:5" "minimal:5" "queue:5")
fi
MODES=(baseline flowscope otel)
(( FLOOR )) && MODES+=(activity)
declare -A PATHS=([json]=/api/forecast [minimal]=/minimal [queue]=/queue)

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

if ! command -v wrk >/dev/null; then
  log "installing wrk"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$ROOT/bench/results/overhead-$STAMP"
mkdir -p "$OUT/wrk"

log "building Release"
dotnet build -c Release "$ROOT/bench/FlowScope.Embedded.Overhead" -nologo -v q >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
DLL="$ROOT/bench/FlowScope.Embedded.Overhead/bin/Release/net10.0/FlowScope.Embedded.Overhead.dll"

NCPU=$(nproc)
if command -v taskset >/dev/null && (( NCPU >= 2 )); then
  SRV_PIN=(taskset -c 0); WRK_PIN=(taskset -c 1)
  PINNING="server pinned to CPU 0, wrk to CPU 1 (taskset)"
else
  SRV_PIN=(); WRK_PIN=(); PINNING="no pinning (taskset missing or < 2 CPUs)"
fi
CLK=$(getconf CLK_TCK)

{
  echo "stamp: $STAMP"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "command: bench/overhead.sh $ARGS"
  echo "nproc: $NCPU"
  lscpu 2>/dev/null | grep -E '^(Model name|Thread|Core|Socket|Hypervisor)' || true
  echo "memory: $(free -g 2>/dev/null | awk '/Mem:/{print $2" GiB"}')"
  echo "dotnet: $(dotnet --version)"
  echo "wrk: $(wrk -v 2>&1 | head -1)"
  echo "pinning: $PINNING"
  echo "gc: $GC_MODE (${GC_ENV[*]:-runtimeconfig})"
  echo "runtime environment (all configurations): ${TIER_ENV[*]} ${GC_ENV[*]}"
  echo "plan: ${PLAN[*]}, warm-up ${WARM}s per endpoint then until JIT settles (max ${WARM_MAX}s, <${JIT_QUIET} methods per 2 s), window ${DUR}s, wrk -t1 -c16 --latency"
  echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

# One app process per configuration, started once and warmed up until the JIT has settled, then measured in
# alternating windows (A B C A B C ...). Short-lived processes measured mostly tier-0 code: JIT compilation went
# on for 15 s and more under load (bench/FlowScope.Embedded.Overhead's /__bench/jit), and code that is not
# precompiled (FlowScope's, OpenTelemetry's, the app's) suffered most. The apps are idle while another is measured.
declare -A APP_PIDS=() APP_PORTS=()
cleanup() {
  for pid in "${APP_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; fi
  done
}
trap cleanup EXIT INT TERM

# Below the kernel's ephemeral range (wrk's client ports live there: a port held by a client connection cannot be
# bound by the server), and not used by any socket in any state.
free_port() {
  local p lo
  lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  for _ in $(seq 1 200); do
    p=$(( 15000 + RANDOM % (lo - 15000) ))
    if ! ss -tanH "sport = :$p" | grep -q .; then echo "$p"; return 0; fi
  done
  return 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# wrk latency value -> microseconds
to_us() { awk -v v="$1" 'BEGIN{ n=v; sub(/[a-z]+$/,"",n); u=v; sub(/^[0-9.]+/,"",u);
  f=(u=="us")?1:(u=="ms")?1000:(u=="s")?1000000:(u=="m")?60000000:1; printf "%.1f", n*f }'; }

RAW="$OUT/raw.tsv"
echo -e "endpoint\tround\tmode\trps\tp50_us\tp99_us\tcpu_us_per_req\talloc_b_per_req\trequests\tnon2xx_or_err\tloadavg1\tgc_pause_us_per_req\tgen0\tgen1\tgen2" > "$RAW"

start_app() { # mode
  local mode=$1 port
  port=$(free_port)
  env "${TIER_ENV[@]}" "${GC_ENV[@]}" "${SRV_PIN[@]}" dotnet "$DLL" --mode "$mode" --port "$port" >"$OUT/app-$mode.log" 2>&1 &
  APP_PIDS[$mode]=$!; APP_PORTS[$mode]=$port
  local ok=0
  for _ in $(seq 1 150); do
    if curl -sf "http://127.0.0.1:$port/__bench/alloc" >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.1
  done
  (( ok )) || { log "app ($mode) did not start"; cat "$OUT/app-$mode.log" >&2; exit 1; }
  echo "gc $mode: $(curl -sf "http://127.0.0.1:$port/__bench/gc" | cut -d' ' -f1-2)" >> "$OUT/machine.txt"
}

warm_app() { # mode: every endpoint once, then the JSON endpoint in 1-s slices until JIT compilation settles
  local mode=$1 base="http://127.0.0.1:${APP_PORTS[$1]}" j0 j1 t=0 ep
  for ep in json minimal queue; do "${WRK_PIN[@]}" wrk -t1 -c16 -d"${WARM}s" "$base${PATHS[$ep]}" >/dev/null 2>&1; done
  j0=$(curl -sf "$base/__bench/jit")
  while (( t < WARM_MAX )); do
    "${WRK_PIN[@]}" wrk -t1 -c16 -d1s "$base${PATHS[json]}" >/dev/null 2>&1
    "${WRK_PIN[@]}" wrk -t1 -c16 -d1s "$base${PATHS[minimal]}" >/dev/null 2>&1
    j1=$(curl -sf "$base/__bench/jit"); t=$((t + 2))
    if (( j1 - j0 < JIT_QUIET )); then break; fi
    j0=$j1
  done
  echo "warm-up $mode: $((3 * WARM + t)) s, methods compiled $j1 (last 2 s: $((j1 - j0)))" >> "$OUT/machine.txt"
  log "warm-up $mode: $((3 * WARM + t)) s, $j1 methods compiled"
}

run_one() { # endpoint round mode
  local ep=$1 round=$2 mode=$3 pid=${APP_PIDS[$3]} port=${APP_PORTS[$3]} url
  url="http://127.0.0.1:$port${PATHS[$ep]}"
  "${WRK_PIN[@]}" wrk -t1 -c16 -d1s "$url" >/dev/null 2>&1   # re-prime connections and caches after idling
  local a0 c0 a1 c1 f g0 g1
  g0=$(curl -sf "http://127.0.0.1:$port/__bench/gc")
  a0=$(curl -sf "http://127.0.0.1:$port/__bench/alloc"); c0=$(cpu_ticks "$pid")
  f="$OUT/wrk/$ep-$round-$mode.txt"
  "${WRK_PIN[@]}" wrk -t1 -c16 -d"${DUR}s" --latency "$url" >"$f" 2>&1
  c1=$(cpu_ticks "$pid"); a1=$(curl -sf "http://127.0.0.1:$port/__bench/alloc")
  g1=$(curl -sf "http://127.0.0.1:$port/__bench/gc")

  local rps reqs p50 p99 bad
  rps=$(awk '/^Requests\/sec:/{print $2}' "$f")
  reqs=$(awk '/requests in/{print $1}' "$f")
  p50=$(to_us "$(awk '$1=="50%"{print $2}' "$f")")
  p99=$(to_us "$(awk '$1=="99%"{print $2}' "$f")")
  bad=$(awk '/Non-2xx/{n+=$NF} /Socket errors/{gsub(/[^0-9 ]/," "); for(i=1;i<=NF;i++) n+=$i} END{print n+0}' "$f")
  local cpu alloc
  cpu=$(awk -v a="$c0" -v b="$c1" -v k="$CLK" -v r="$reqs" 'BEGIN{printf "%.2f", (b-a)*1e6/k/r}')
  alloc=$(awk -v a="$a0" -v b="$a1" -v r="$reqs" 'BEGIN{printf "%.0f", (b-a)/r}')
  # GC pause per request and collections per generation during the window (GC.GetTotalPauseDuration, CollectionCount)
  local gcs
  gcs=$(awk -v a="$g0" -v b="$g1" -v r="$reqs" 'BEGIN{split(a,x," "); split(b,y," ");
    printf "%.2f\t%d\t%d\t%d", (y[3]-x[3])*1000/r, (y[4]-x[4])-(y[5]-x[5]), (y[5]-x[5])-(y[6]-x[6]), y[6]-x[6]}')
  echo -e "$ep\t$round\t$mode\t$rps\t$p50\t$p99\t$cpu\t$alloc\t$reqs\t$bad\t$(cut -d' ' -f1 /proc/loadavg)\t$gcs" >> "$RAW"
  log "$ep r$round $mode: ${rps} req/s p50=${p50}us p99=${p99}us cpu=${cpu}us/req alloc=${alloc}B/req gc(pause us/req, gen0 gen1 gen2)=${gcs//$'\t'/ }"
}

for m in "${MODES[@]}"; do start_app "$m"; warm_app "$m"; done
for entry in "${PLAN[@]}"; do
  ep=${entry%%:*}; rounds=${entry##*:}
  for r in $(seq 1 "$rounds"); do
    for m in "${MODES[@]}"; do run_one "$ep" "$r" "$m"; done
  done
done
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

# ---- summary: medians over rounds, ratios -------------------------------------------------------
python3 - "$RAW" "$OUT/summary.txt" <<'PY'
import sys, csv, statistics as st
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
eps = []
for r in rows:
    if r["endpoint"] not in eps: eps.append(r["endpoint"])
modes = [m for m in ["baseline", "flowscope", "otel", "activity"] if any(r["mode"] == m for r in rows)]
cols = [("rps","req/s","%.0f"),("p50_us","p50 µs","%.0f"),("p99_us","p99 µs","%.0f"),("cpu_us_per_req","CPU µs/req","%.1f"),("alloc_b_per_req","alloc B/req","%.0f"),("gc_pause_us_per_req","GC pause µs/req","%.2f")]
out = []
med = {}
for ep in eps:
    rounds = len({r["round"] for r in rows if r["endpoint"] == ep})
    out.append(f"\n### {ep} (median of {rounds} round(s); load avg 1-min during runs: "
               f"{min(float(r['loadavg1']) for r in rows if r['endpoint']==ep):.1f}-{max(float(r['loadavg1']) for r in rows if r['endpoint']==ep):.1f})\n")
    out.append("| configuration | " + " | ".join(c[1] for c in cols) + " | req/s vs baseline | errors |")
    out.append("|---|" + "---:|" * (len(cols) + 2))
    for m in modes:
        sel = [r for r in rows if r["endpoint"] == ep and r["mode"] == m]
        med[(ep, m)] = {c[0]: st.median(float(r[c[0]]) for r in sel) for c in cols}
    for m in modes:
        v = med[(ep, m)]
        ratio = v["rps"] / med[(ep, "baseline")]["rps"]
        errs = sum(int(r["non2xx_or_err"]) for r in rows if r["endpoint"] == ep and r["mode"] == m)
        out.append(f"| {m} | " + " | ".join(c[2] % v[c[0]] for c in cols) + f" | {ratio:.2f} | {errs} |")
    fb = med[(ep,"flowscope")]["rps"]/med[(ep,"baseline")]["rps"]
    ob = med[(ep,"otel")]["rps"]/med[(ep,"baseline")]["rps"]
    fo = med[(ep,"flowscope")]["rps"]/med[(ep,"otel")]["rps"]
    out.append(f"\nthroughput ratios ({ep}): flowscope/baseline={fb:.2f} otel/baseline={ob:.2f} flowscope/otel={fo:.2f}")
    # per-round paired ratios show the spread the medians hide
    pr = []
    for rd in sorted({r["round"] for r in rows if r["endpoint"] == ep}, key=int):
        g = {r["mode"]: float(r["rps"]) for r in rows if r["endpoint"] == ep and r["round"] == rd}
        pr.append(f"r{rd}: fs/base={g['flowscope']/g['baseline']:.2f} otel/base={g['otel']/g['baseline']:.2f}"
                  + (f" activity/base={g['activity']/g['baseline']:.2f}" if "activity" in g else ""))
    out.append("per round: " + "; ".join(pr))
ep = "json"
fb = med[(ep,"flowscope")]["rps"]/med[(ep,"baseline")]["rps"]
ob = med[(ep,"otel")]["rps"]/med[(ep,"baseline")]["rps"]
fo = med[(ep,"flowscope")]["rps"]/med[(ep,"otel")]["rps"]
out.append(f"\nRESULT flowscope_vs_baseline={fb:.2f} otel_vs_baseline={ob:.2f} flowscope_vs_otel={fo:.2f}")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY
echo "results: $OUT" >&2
cat "$OUT/machine.txt"
cat "$OUT/summary.txt"
