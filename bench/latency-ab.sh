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
# shellcheck source=side-by-side.sh
source "$ROOT/bench/side-by-side.sh"
start_side a "$1" "$DLL" "$TARGET"
start_side b "$2" "$DLL" "$TARGET"
echo "round label req/s p50 p99"
for r in $(seq 1 "$ROUNDS"); do
  for k in a b; do
    o=$(taskset -c 1 wrk -t1 -c16 -d6s --latency "http://127.0.0.1:${PORT[$k]}$TARGET")
    echo "$r ${LABEL[$k]} $(awk '/Requests\/sec/{printf "%.0f", $2}' <<<"$o") $(awk '$1=="50%"{print $2}' <<<"$o") $(awk '$1=="99%"{print $2}' <<<"$o")"
  done
done
echo "(load $(cut -d' ' -f1 /proc/loadavg))"
