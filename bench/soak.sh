#!/usr/bin/env bash
# Soak: runs the sample messenger with its chat simulator under steady load and samples, every interval,
# the process's memory (RSS), thread count and FlowScope's counters (captured, dropped, evicted, stored).
# Not part of CI. Usage: bench/soak.sh [--minutes 30] [--rate 50] [--interval 15]
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=30; rate=50; interval=15
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="bench/results/soak-$stamp"
mkdir -p "$out"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')

dotnet build samples/FlowScope.Samples.Messenger -c Release -v quiet -nologo > "$out/build.log"
dll=$(ls samples/FlowScope.Samples.Messenger/bin/Release/net10.0/FlowScope.Samples.Messenger.dll)
(cd samples/FlowScope.Samples.Messenger && exec env ASPNETCORE_ENVIRONMENT=Production \
   Messenger__Simulator__Enabled=true Messenger__Simulator__MessagesPerSecond="$rate" \
   Logging__LogLevel__Default=Warning \
   dotnet "../../$dll" --urls "http://127.0.0.1:$port") > "$out/app.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT

for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/_flowscope/api/stats" > /dev/null && break
  sleep 0.5
done

echo "elapsed_s,rss_mb,threads,captured,dropped,evicted_traces,stored_traces,stored_spans,requests_per_s" | tee "$out/soak.csv"
end=$(( $(date +%s) + minutes * 60 ))
start=$(date +%s)
while [ "$(date +%s)" -lt "$end" ]; do
  sleep "$interval"
  kill -0 $pid 2>/dev/null || { echo "the sample exited: see $out/app.log" >&2; exit 1; }
  rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$pid/status)
  threads=$(awk '/Threads/ {print $2}' /proc/$pid/status)
  stats=$(curl -sf "http://127.0.0.1:$port/_flowscope/api/stats")
  metrics=$(curl -sf "http://127.0.0.1:$port/_flowscope/api/metrics")
  row=$(python3 - "$stats" "$metrics" <<'PY'
import json, sys
s = json.loads(sys.argv[1]); m = json.loads(sys.argv[2])
print(",".join(str(x) for x in [s["captured"], s["dropped"], s["evictedTraces"], s["storedTraces"], s["storedSpans"], m["requestsPerSecond"]]))
PY
)
  echo "$(( $(date +%s) - start )),$rss,$threads,$row" | tee -a "$out/soak.csv"
done

python3 - "$out/soak.csv" <<'PY' | tee "$out/summary.txt"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
if not rows:
    sys.exit("no samples")
rss = [float(r["rss_mb"]) for r in rows]
q = max(1, len(rows) // 4)
first, last = sum(rss[q:2*q]) / q, sum(rss[-q:]) / q
print(f"samples={len(rows)} duration_s={rows[-1]['elapsed_s']} rss_max_mb={max(rss):.1f} "
      f"rss_second_quarter_mb={first:.1f} rss_last_quarter_mb={last:.1f} growth_pct={(last-first)/first*100:.1f} "
      f"threads_max={max(int(r['threads']) for r in rows)} dropped={rows[-1]['dropped']} captured={rows[-1]['captured']} "
      f"evicted_traces={rows[-1]['evicted_traces']} stored_traces_max={max(int(r['stored_traces']) for r in rows)}")
PY
echo "results in $out"
