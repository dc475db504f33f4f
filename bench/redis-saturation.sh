#!/usr/bin/env bash
# The sample at full load with FlowScope persisting to Redis (issue 18, item 8): how much of what FlowScope hands to
# its Redis writer is persisted, and does the accounting add up.
#
#   bench/redis-saturation.sh                  # 30 s of load after a 10 s warm-up
#   bench/redis-saturation.sh --quick          # 6 s after 3 s (checks that it runs; the share means little)
#   bench/redis-saturation.sh [--seconds N] [--connections C] [--path /api/rooms] [--shards N] [--set NAME=VALUE]...
#
# Starts redis-server on a free loopback port (--save '' --appendonly no) and the sample (Release, Production,
# FlowScope__Redis__ConnectionString pointing at it; the app's own data in its SQLite file; its API rate limit raised so
# every request is served), registers a user and drives GET <path> (default /api/rooms: cookie authentication, rate
# limiter, MVC, seven SQLite queries: ~22 spans per request) with wrk from loopback. Nothing is pinned: app, wrk and redis-server share the
# machine's cores, as on a small server.
#
# From the sample's /_flowscope/api/stats (extensions.redis): s0 after the warm-up, s1 when the load stops, s2 once the
# writer has nothing waiting (at most 30 s later).
#   persisted_share = (s2.persisted - s0.persisted - s0.waiting) / (s2.produced - s0.produced)
#     the spans handed to the writer during the load that were persisted; conservative: everything that was waiting
#     at s0 is assumed persisted after it and taken off.
#   accounted = 1 when produced = persisted + waiting + dropped holds exactly in s1 (under load) and s2, where waiting
#     includes retrying (the part of waiting whose write already failed; api/stats reports it beside waiting).
# Last line: RESULT persisted_share=<0..1> accounted=<0|1>
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DUR=30; WARM=10; CONNS=32; TARGET=/api/rooms; SHARDS=1; EXTRA=()
while (( $# )); do
  case "$1" in
    --quick) DUR=6; WARM=3 ;;
    --seconds) DUR="${2:?}"; shift ;;
    --connections) CONNS="${2:?}"; shift ;;
    --path) TARGET="${2:?}"; shift ;;
    --shards) SHARDS="${2:?}"; shift ;;
    --set) EXTRA+=("${2:?}"); shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
if ! command -v wrk >/dev/null; then
  log "installing wrk"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install -y redis-server)" >&2; exit 1; }

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$ROOT/bench/results/redis-saturation-$STAMP"
WORK="$(mktemp -d /tmp/flowscope-redis-saturation.XXXXXX)"
mkdir -p "$OUT"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

log "building the sample (Release)"
dotnet build -c Release "$ROOT/samples/FlowScope.Samples.Messenger" -nologo -v q >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
DLL="$ROOT/samples/FlowScope.Samples.Messenger/bin/Release/net10.0/FlowScope.Samples.Messenger.dll"

RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --protected-mode no --save '' --appendonly no --dir "$WORK" >"$OUT/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

APORT=$(free_port)
BASE="http://127.0.0.1:$APORT"
(cd "$ROOT/samples/FlowScope.Samples.Messenger" && exec env ASPNETCORE_ENVIRONMENT=Production \
   FlowScope__Redis__ConnectionString="127.0.0.1:$RPORT" FlowScope__Redis__Shards="$SHARDS" \
   Messenger__ApiRequestsPerMinute=1000000 Logging__LogLevel__Default=Warning ${EXTRA[@]+"${EXTRA[@]}"} \
   dotnet "$DLL" --urls "$BASE") >"$OUT/app.log" 2>&1 &
APP=$!; PIDS+=($APP)
for _ in $(seq 1 150); do curl -sf "$BASE/_flowscope/api/stats" >/dev/null && break; sleep 0.2; done
curl -sf "$BASE/_flowscope/api/stats" >/dev/null || { log "the sample did not start"; cat "$OUT/app.log" >&2; exit 1; }

curl -sf -c "$WORK/jar" -H 'Content-Type: application/json' -d '{"userName":"bench","password":"correct horse battery"}' "$BASE/api/account/register" >/dev/null
COOKIE="messenger.auth=$(awk '$6=="messenger.auth"{print $7}' "$WORK/jar")"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" "$BASE$TARGET")" = 200 ] || { log "GET $TARGET does not answer 200"; exit 1; }

{
  echo "stamp: $STAMP"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo +changes)"
  echo "nproc: $(nproc)"
  lscpu 2>/dev/null | grep -E '^(Model name|Hypervisor)' || true
  echo "dotnet: $(dotnet --version)"
  echo "redis: $(redis-server --version)"
  echo "wrk: $(wrk -v 2>&1 | head -1)"
  echo "load: GET $TARGET, wrk -t1 -c$CONNS, warm-up ${WARM}s, measured ${DUR}s, shards $SHARDS, extra: ${EXTRA[*]:-none}"
  echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

stats() { curl -sf "$BASE/_flowscope/api/stats"; }
log "warm-up ${WARM}s"
wrk -t1 -c"$CONNS" -d"${WARM}s" -H "Cookie: $COOKIE" "$BASE$TARGET" >"$OUT/wrk-warmup.txt" 2>&1
stats >"$OUT/stats-s0.json"
log "load ${DUR}s"
wrk -t1 -c"$CONNS" -d"${DUR}s" --latency -H "Cookie: $COOKIE" "$BASE$TARGET" >"$OUT/wrk.txt" 2>&1
stats >"$OUT/stats-s1.json"
for _ in $(seq 1 150); do
  stats >"$OUT/stats-s2.json"
  python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["extensions"]["redis"]["waiting"] == 0 else 1)' "$OUT/stats-s2.json" && break
  sleep 0.2
done
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

python3 - "$OUT" "$DUR" <<'PY' | tee "$OUT/summary.txt"
import json, re, sys
out, dur = sys.argv[1], float(sys.argv[2])
s = [json.load(open(f"{out}/stats-s{i}.json")) for i in range(3)]
r = [x["extensions"]["redis"] for x in s]
wrk = open(f"{out}/wrk.txt").read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
produced = r[2]["produced"] - r[0]["produced"]
persisted = r[2]["persisted"] - r[0]["persisted"]
dropped = r[2]["dropped"] - r[0]["dropped"]
share = max(0.0, (persisted - r[0]["waiting"]) / produced) if produced else 0.0
def ok(x): return x["produced"] == x["persisted"] + x["waiting"] + x["dropped"] and x["retrying"] <= x["waiting"]
accounted = int(ok(r[1]) and ok(r[2]))
print(f"requests/s {rps:.0f}; spans handed to the Redis writer {produced / dur:.0f}/s during the load")
print(f"load window: produced {produced:.0f}, persisted {persisted:.0f} (of which up to {r[0]['waiting']:.0f} were waiting before it), dropped {dropped:.0f}")
print(f"persisted {persisted / dur:.0f} spans/s; waiting when the load stopped {r[1]['waiting']:.0f} (retrying {r[1]['retrying']:.0f}), after the drain {r[2]['waiting']:.0f}")
print(f"writer: entries {r[2]['entriesWritten']:.0f}, failed writes {r[2]['failedWrites']:.0f}; core: captured {s[2]['captured']}, dropped {s[2]['dropped']}")
for name, x in (("s1 (under load)", r[1]), ("s2 (drained)", r[2])):
    print(f"{name}: produced {x['produced']:.0f} = persisted {x['persisted']:.0f} + waiting {x['waiting']:.0f} + dropped {x['dropped']:.0f} -> {'exact' if ok(x) else 'MISMATCH'}")
print(f"RESULT persisted_share={share:.3f} accounted={accounted}")
PY
echo "results: $OUT" >&2
