#!/usr/bin/env bash
# Soak: runs the sample messenger with its chat simulator under steady load and samples, every interval,
# the process's memory (RSS), its managed heap (GC heap size, committed bytes, fragmentation, gen2 and LOH sizes,
# collection counts; from the sample's opt-in /internal/runtime), its thread count and FlowScope's counters
# (captured, dropped, evicted, stored). Not part of CI.
# Usage: bench/soak.sh [--minutes 30] [--rate 50] [--interval 15] [--gc server|workstation]
#                      [--heap-at SECONDS[,SECONDS...]] [--set NAME=VALUE]...
#   --gc       the GC the sample runs with (server is ASP.NET Core's default); sets DOTNET_gcServer
#   --heap-at  heap snapshots (live objects by type, bench/FlowScope.HeapStat) at these elapsed seconds; the
#              process is suspended while one is taken (a few seconds), so keep them few
#   --set      an extra environment variable for the sample (e.g. FlowScope__MaxTraces=2000)
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=30; rate=50; interval=15; gc=server; heap_at=""; extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --gc) gc=$2; shift 2 ;;
    --heap-at) heap_at=$2; shift 2 ;;
    --set) extra+=("$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$gc" in
  server) gc_server=1 ;;
  workstation) gc_server=0 ;;
  *) echo "--gc is server or workstation" >&2; exit 2 ;;
esac

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="bench/results/soak-$stamp"
mkdir -p "$out"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')

dotnet build samples/FlowScope.Samples.Messenger -c Release -v quiet -nologo > "$out/build.log"
dll=$(ls samples/FlowScope.Samples.Messenger/bin/Release/net10.0/FlowScope.Samples.Messenger.dll)
heapstat=""
if [ -n "$heap_at" ]; then
  dotnet build bench/FlowScope.HeapStat -c Release -v quiet -nologo >> "$out/build.log"
  heapstat=$(ls bench/FlowScope.HeapStat/bin/Release/net10.0/FlowScope.HeapStat.dll)
fi
echo "minutes=$minutes rate=$rate interval=$interval gc=$gc heap_at=$heap_at extra=${extra[*]:-} commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo +changes)" > "$out/args.txt"
(cd samples/FlowScope.Samples.Messenger && exec env ASPNETCORE_ENVIRONMENT=Production \
   Messenger__Simulator__Enabled=true Messenger__Simulator__MessagesPerSecond="$rate" \
   Messenger__RuntimeStats=true DOTNET_gcServer="$gc_server" \
   Logging__LogLevel__Default=Warning ${extra[@]+"${extra[@]}"} \
   dotnet "../../$dll" --urls "http://127.0.0.1:$port") > "$out/app.log" 2>&1 &
pid=$!
# The app's log (every retried notification is a warning) is kept compressed.
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; gzip -f "$out/app.log" 2>/dev/null || true' EXIT

for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/_flowscope/api/stats" > /dev/null && break
  sleep 0.5
done

echo "elapsed_s,rss_mb,gc_heap_mb,gc_committed_mb,gc_fragmented_mb,gen2_mb,loh_mb,gen0_count,gen1_count,gen2_count,allocated_mb,threads,captured,dropped,evicted_traces,stored_traces,stored_spans,requests_per_s" | tee "$out/soak.csv"
end=$(( $(date +%s) + minutes * 60 ))
start=$(date +%s)
pending=" ${heap_at//,/ } "
while [ "$(date +%s)" -lt "$end" ]; do
  sleep "$interval"
  kill -0 $pid 2>/dev/null || { echo "the sample exited: see $out/app.log.gz" >&2; exit 1; }
  elapsed=$(( $(date +%s) - start ))
  rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$pid/status)
  threads=$(awk '/Threads/ {print $2}' /proc/$pid/status)
  stats=$(curl -sf "http://127.0.0.1:$port/_flowscope/api/stats")
  metrics=$(curl -sf "http://127.0.0.1:$port/_flowscope/api/metrics")
  runtime=$(curl -sf "http://127.0.0.1:$port/internal/runtime")
  row=$(python3 - "$stats" "$metrics" "$runtime" <<'PY'
import json, sys
s = json.loads(sys.argv[1]); m = json.loads(sys.argv[2]); r = json.loads(sys.argv[3])
mb = lambda b: f"{b / 1048576:.1f}"
print(",".join(str(x) for x in [
    mb(r["heapSizeBytes"]), mb(r["committedBytes"]), mb(r["fragmentedBytes"]), mb(r["gen2Bytes"]), mb(r["lohBytes"]),
    r["gen0Collections"], r["gen1Collections"], r["gen2Collections"], mb(r["totalAllocatedBytes"]),
]) + "|" + ",".join(str(x) for x in [
    s["captured"], s["dropped"], s["evictedTraces"], s["storedTraces"], s["storedSpans"], m["requestsPerSecond"]]))
PY
)
  echo "$elapsed,$rss,${row%%|*},$threads,${row#*|}" | tee -a "$out/soak.csv"
  for at in $pending; do
    if [ "$elapsed" -ge "$at" ]; then
      pending=${pending/ $at / }
      echo "heap snapshot at ${elapsed} s (asked for ${at} s) -> $out/heap-${elapsed}s.txt"
      dotnet "$heapstat" "$pid" --top 80 --owners FlowScope > "$out/heap-${elapsed}s.txt" 2>&1 || echo "heap snapshot failed: see $out/heap-${elapsed}s.txt" >&2
    fi
  done
done

python3 - "$out/soak.csv" <<'PY' | tee "$out/summary.txt"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
if not rows:
    sys.exit("no samples")
q = max(1, len(rows) // 4)
def quarters(column):
    values = [float(r[column]) for r in rows]
    first, last = sum(values[q:2*q]) / q, sum(values[-q:]) / q
    return max(values), first, last, (last - first) / first * 100 if first else 0.0
rss = quarters("rss_mb"); heap = quarters("gc_heap_mb"); committed = quarters("gc_committed_mb")
print(f"samples={len(rows)} duration_s={rows[-1]['elapsed_s']} "
      f"rss_max_mb={rss[0]:.1f} rss_second_quarter_mb={rss[1]:.1f} rss_last_quarter_mb={rss[2]:.1f} rss_growth_pct={rss[3]:.1f} "
      f"gc_heap_max_mb={heap[0]:.1f} gc_heap_second_quarter_mb={heap[1]:.1f} gc_heap_last_quarter_mb={heap[2]:.1f} gc_heap_growth_pct={heap[3]:.1f} "
      f"gc_committed_max_mb={committed[0]:.1f} gc_committed_growth_pct={committed[3]:.1f} gen2_count={rows[-1]['gen2_count']} "
      f"threads_max={max(int(r['threads']) for r in rows)} dropped={rows[-1]['dropped']} captured={rows[-1]['captured']} "
      f"evicted_traces={rows[-1]['evicted_traces']} stored_traces_max={max(int(r['stored_traces']) for r in rows)}")
PY
echo "results in $out"
