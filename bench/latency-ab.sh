#!/usr/bin/env bash
# Tail latency of two configurations of the overhead app (already built by bench/overhead.sh), side by side: both
# apps run at once, pinned to CPU 0, and are driven by wrk on CPU 1 in alternating 6-second windows (A B A B ...),
# each reporting req/s, p50 and p99 (wrk --latency). For questions such as "what does FlowScope:MaxTraces do to
# the p99 at saturation?"; bench/overhead-ab.sh is the tool for CPU per request.
#   bench/latency-ab.sh "label:mode[:ENV=value ...]" "label:mode[:ENV=value ...]" [rounds=4] [path=/api/forecast]
#   bench/latency-ab.sh "default:flowscope" "max3000:flowscope:FlowScope__MaxTraces=3000" 5
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DLL=${DLL:-$ROOT/bench/FlowScope.Embedded.Overhead/bin/Release/net10.0/FlowScope.Embedded.Overhead.dll}
ROUNDS=${3:-4}
TARGET=${4:-/api/forecast}
declare -A PID PORT
cleanup() { for k in "${!PID[@]}"; do kill "${PID[$k]}" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
# below the ephemeral range (wrk's client ports), unused in any socket state
port() { local p lo; lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768); while :; do p=$((15000 + RANDOM % (lo - 15000))); ss -tanH "sport = :$p" | grep -q . || { echo "$p"; return; }; done; }
LABELS=()
for spec in "$1" "$2"; do
  IFS=: read -r label mode envs <<<"$spec"
  p=$(port)
  # shellcheck disable=SC2086 # envs is a list of NAME=value words
  env DOTNET_TC_CallCountingDelayMs=0 $envs taskset -c 0 dotnet "$DLL" --mode "$mode" --port "$p" >/dev/null 2>&1 &
  PID[$label]=$!; PORT[$label]=$p; LABELS+=("$label")
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$p/__bench/alloc" >/dev/null && break; sleep 0.1; done
  for _ in 1 2 3 4 5; do taskset -c 1 wrk -t1 -c16 -d2s "http://127.0.0.1:$p$TARGET" >/dev/null; done # warm-up
done
echo "round label req/s p50 p99"
for r in $(seq 1 "$ROUNDS"); do
  for l in "${LABELS[@]}"; do
    o=$(taskset -c 1 wrk -t1 -c16 -d6s --latency "http://127.0.0.1:${PORT[$l]}$TARGET")
    echo "$r $l $(awk '/Requests\/sec/{printf "%.0f", $2}' <<<"$o") $(awk '$1=="50%"{print $2}' <<<"$o") $(awk '$1=="99%"{print $2}' <<<"$o")"
  done
done
echo "(load $(cut -d' ' -f1 /proc/loadavg))"
