#!/usr/bin/env bash
# Persisted spans/s with 1 shard and with 3 shards on a 3-master Redis Cluster (issue 24, item 5).
#
#   bench/redis-cluster.sh              # 20 s per configuration
#   bench/redis-cluster.sh --quick      # 4 s per configuration (checks that the harness runs; figures mean little)
#   bench/redis-cluster.sh --seconds N
#
# Starts three redis-server --cluster-enabled yes on free loopback ports (own directories, --save '' --appendonly no),
# joins them with redis-cli --cluster create --cluster-replicas 0, waits for cluster_state:ok, then runs the same load
# twice through bench/FlowScope.Embedded.Redis.Benchmarks --cluster: the writer fed as fast as it persists (spans held
# back while 64k wait, nothing dropped), FlowScope:Redis:Shards=1 then 3. spread=1 when, after the 3-shard run, every
# master holds keys of it.
# On a 2-core machine the app's writer threads and the three servers share two cores: the 3-shard figure is bounded by
# CPU there, not by the cluster. Run it where each master has a core of its own to see the scaling.
# Last line: RESULT shards1=<spans/s> shards3=<spans/s> spread=<0|1>
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECONDS_PER_RUN=20
while (( $# )); do
  case "$1" in
    --quick) SECONDS_PER_RUN=4 ;;
    --seconds) SECONDS_PER_RUN="${2:?--seconds needs a number}"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || { echo "redis-server and redis-cli are needed (apt-get install -y redis-server)" >&2; exit 1; }

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$ROOT/bench/results/redis-cluster-$STAMP"
WORK="$(mktemp -d /tmp/flowscope-redis-cluster.XXXXXX)"
mkdir -p "$OUT"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

log "building Release"
dotnet build -c Release "$ROOT/bench/FlowScope.Embedded.Redis.Benchmarks" -nologo -v q >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
DLL="$ROOT/bench/FlowScope.Embedded.Redis.Benchmarks/bin/Release/net10.0/FlowScope.Embedded.Redis.Benchmarks.dll"

PORTS=()
for i in 0 1 2; do
  p=$(free_port); bus=$(free_port)
  mkdir -p "$WORK/node$i"
  redis-server --port "$p" --bind 127.0.0.1 --protected-mode no --save '' --appendonly no --dir "$WORK/node$i" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-port "$bus" >"$WORK/node$i/log" 2>&1 &
  PIDS+=($!); PORTS+=("$p")
done
for p in "${PORTS[@]}"; do
  for _ in $(seq 1 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
redis-cli --cluster create "${PORTS[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >"$OUT/cluster-create.log" 2>&1
for _ in $(seq 1 300); do
  ok=1
  for p in "${PORTS[@]}"; do
    redis-cli -p "$p" cluster info | grep -q 'cluster_state:ok' || ok=0
    redis-cli -p "$p" cluster info | grep -q 'cluster_slots_ok:16384' || ok=0
  done
  (( ok )) && break
  sleep 0.1
done
(( ok )) || { log "the cluster did not become ready"; cat "$OUT/cluster-create.log" >&2; exit 1; }
CONN=$(printf '127.0.0.1:%s,' "${PORTS[@]}"); CONN=${CONN%,}

{
  echo "stamp: $STAMP"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo +changes)"
  echo "nproc: $(nproc)"
  echo "redis: $(redis-server --version)"
  echo "dotnet: $(dotnet --version)"
  echo "cluster: ${PORTS[*]} (3 masters, no replicas, no persistence)"
  echo "seconds per run: $SECONDS_PER_RUN"
  echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

run() { # shards
  log "shards=$1: ${SECONDS_PER_RUN}s"
  dotnet "$DLL" --cluster "$CONN" --shards "$1" --seconds "$SECONDS_PER_RUN" | tee -a "$OUT/runs.txt" | tail -1
}
line1=$(run 1); log "$line1"
line3=$(run 3); log "$line3"
rate() { sed -E 's/.*spans_per_s=([0-9]+).*/\1/' <<<"$1"; }
prefix3=$(sed -E 's/.*prefix=([^ ]+).*/\1/' <<<"$line3")

spread=1
for p in "${PORTS[@]}"; do
  n=$(redis-cli -p "$p" --scan --pattern "$prefix3:*" | wc -l)
  echo "master 127.0.0.1:$p holds $n keys of the 3-shard run" | tee -a "$OUT/runs.txt" >&2
  (( n > 0 )) || spread=0
done
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
echo "results: $OUT" >&2
echo "RESULT shards1=$(rate "$line1") shards3=$(rate "$line3") spread=$spread" | tee -a "$OUT/runs.txt"
