#!/usr/bin/env bash
# Where does FlowScope's end-to-end cost go? Runs the overhead app (already built by bench/overhead.sh) in flowscope
# mode with single FlowScope options switched through environment variables (FlowScope__<Option>), plus baseline
# for reference: 3 consecutive 3-second wrk windows on the JSON controller each, req/s, alloc B/req, CPU µs/req.
# Each app is warmed up until JIT compilation settles before its windows.
#   bench/overhead-diag.sh [outfile]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DLL="$ROOT/bench/FlowScope.Embedded.Overhead/bin/Release/net10.0/FlowScope.Embedded.Overhead.dll"
OUTF="${1:-/dev/stdout}"
CLK=$(getconf CLK_TCK)
APP_PID=""
trap '[[ -n "$APP_PID" ]] && kill "$APP_PID" 2>/dev/null; wait 2>/dev/null || true' EXIT
# below the ephemeral range (wrk's client ports), unused in any socket state
port() { local p lo; lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768); while :; do p=$((15000 + RANDOM % (lo - 15000))); ss -tanH "sport = :$p" | grep -q . || { echo $p; return; }; done; }
diag() { # label mode env...
  local label=$1 mode=$2; shift 2
  local p; p=$(port)
  env DOTNET_TC_CallCountingDelayMs=0 "$@" taskset -c 0 dotnet "$DLL" --mode "$mode" --port "$p" >/dev/null 2>&1 & APP_PID=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$p/__bench/alloc" >/dev/null && break; sleep 0.1; done
  # warm up until JIT compilation settles (as bench/overhead.sh): < 15 new methods in 2 s, at most 20 s
  local j0 j1 t=0
  taskset -c 1 wrk -t1 -c16 -d2s "http://127.0.0.1:$p/api/forecast" >/dev/null
  j0=$(curl -sf "http://127.0.0.1:$p/__bench/jit")
  while (( t < 30 )); do
    taskset -c 1 wrk -t1 -c16 -d2s "http://127.0.0.1:$p/api/forecast" >/dev/null
    j1=$(curl -sf "http://127.0.0.1:$p/__bench/jit"); t=$((t + 2))
    (( j1 - j0 < 15 )) && break
    j0=$j1
  done
  local line="$label ($*):"
  for w in 1 2 3; do
    local a0 c0 a1 c1 o n r
    a0=$(curl -sf "http://127.0.0.1:$p/__bench/alloc"); c0=$(awk '{print $14+$15}' /proc/$APP_PID/stat)
    o=$(taskset -c 1 wrk -t1 -c16 -d3s "http://127.0.0.1:$p/api/forecast")
    c1=$(awk '{print $14+$15}' /proc/$APP_PID/stat); a1=$(curl -sf "http://127.0.0.1:$p/__bench/alloc")
    n=$(awk '/requests in/{print $1}' <<<"$o"); r=$(awk '/Requests\/sec/{printf "%.0f", $2}' <<<"$o")
    line="$line  w$w ${r} req/s $(( (a1-a0)/n )) B/req $(awk -v d=$((c1-c0)) -v k=$CLK -v n=$n 'BEGIN{printf "%.0f", d*1e6/k/n}') µs/req"
  done
  kill "$APP_PID"; wait "$APP_PID" 2>/dev/null || true; APP_PID=""
  echo "$line  load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$OUTF"
}
echo "# overhead-diag $(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(git -C "$ROOT" rev-parse --short HEAD)" | tee -a "$OUTF"
diag baseline baseline X=1
diag flowscope-defaults flowscope X=1
diag no-mvc-filter flowscope BENCH_NO_MVC_FILTER=1
diag no-middleware-capture flowscope FlowScope__CaptureMiddleware=false
diag logs-warning-only flowscope FlowScope__MinimumLogLevel=Warning
diag framework-logs-recorded flowscope Logging__FlowScope__LogLevel__Microsoft=Information
diag no-mw-logs-warning flowscope FlowScope__CaptureMiddleware=false FlowScope__MinimumLogLevel=Warning
diag maxtraces-100 flowscope FlowScope__MaxTraces=100
diag flowscope-disabled flowscope FlowScope__Enabled=false
diag otel otel X=1
diag activity-only activity X=1
