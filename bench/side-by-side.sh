# Sourced by bench/overhead-ab.sh and bench/latency-ab.sh: two configurations of the overhead app (already built by
# bench/overhead.sh) running at once, pinned to CPU 0, for wrk on CPU 1.
#   start_side KEY "label:mode[:ENV=value ...]" DLL TARGET   -> PID[KEY], PORT[KEY], LABEL[KEY]
declare -A PID PORT LABEL
stop_sides() { for k in "${!PID[@]}"; do kill "${PID[$k]}" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop_sides EXIT
# below the ephemeral range (wrk's client ports), unused in any socket state
free_side_port() { local p lo; lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768); while :; do p=$((15000 + RANDOM % (lo - 15000))); ss -tanH "sport = :$p" | grep -q . || { echo "$p"; return; }; done; }
start_side() { # key spec dll target
  local key=$1 spec=$2 dll=$3 target=$4 label mode envs p
  IFS=: read -r label mode envs <<<"$spec"
  p=$(free_side_port)
  # shellcheck disable=SC2086 # envs is a list of NAME=value words
  env DOTNET_TC_CallCountingDelayMs=0 $envs taskset -c 0 dotnet "$dll" --mode "$mode" --port "$p" >/dev/null 2>&1 &
  PID[$key]=$!; PORT[$key]=$p; LABEL[$key]=$label
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$p/__bench/alloc" >/dev/null && break; sleep 0.1; done
  for _ in 1 2 3 4 5 6; do taskset -c 1 wrk -t1 -c16 -d2s "http://127.0.0.1:$p$target" >/dev/null; done # warm-up
}
