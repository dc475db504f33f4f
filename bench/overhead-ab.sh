#!/usr/bin/env bash
# Paired A/B comparison of two configurations of the overhead app (already built by bench/overhead.sh): both apps
# run at once, pinned to CPU 0, and are measured in alternating 3-second wrk windows (A B A B ...), so a change in
# the machine's load hits both sides of a pair alike. Per window: req/s, allocated bytes, CPU µs and GC pause µs per
# request, and collections; at the end the medians and the median of the per-pair CPU differences (B - A).
#   bench/overhead-ab.sh "label:mode[:ENV=value ...]" "label:mode[:ENV=value ...]" [pairs=6] [path=/api/forecast]
#   bench/overhead-ab.sh "fs:flowscope" "nomw:flowscope:FlowScope__CaptureMiddleware=false" 8
# Environment: DLLA / DLLB point either side at another build of the app (default: this tree's Release build).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TREE_DLL=$ROOT/bench/FlowScope.Embedded.Overhead/bin/Release/net10.0/FlowScope.Embedded.Overhead.dll
DLLA=${DLLA:-$TREE_DLL}
DLLB=${DLLB:-$TREE_DLL}
PAIRS=${3:-6}
TARGET=${4:-/api/forecast}
CLK=$(getconf CLK_TCK)
# shellcheck source=side-by-side.sh
source "$ROOT/bench/side-by-side.sh"
window() { # key -> "rps bytes cpu_us gc_us g0 g1 g2"
  local p=${PORT[$1]} pid=${PID[$1]} g0 a0 c0 o c1 a1 g1 n r
  g0=$(curl -sf "http://127.0.0.1:$p/__bench/gc"); a0=$(curl -sf "http://127.0.0.1:$p/__bench/alloc"); c0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  o=$(taskset -c 1 wrk -t1 -c16 -d3s "http://127.0.0.1:$p$TARGET")
  c1=$(awk '{print $14+$15}' "/proc/$pid/stat"); a1=$(curl -sf "http://127.0.0.1:$p/__bench/alloc"); g1=$(curl -sf "http://127.0.0.1:$p/__bench/gc")
  n=$(awk '/requests in/{print $1}' <<<"$o"); r=$(awk '/Requests\/sec/{printf "%.0f", $2}' <<<"$o")
  awk -v r="$r" -v n="$n" -v da=$((a1 - a0)) -v dc=$((c1 - c0)) -v k="$CLK" -v a="$g0" -v b="$g1" 'BEGIN{split(a,x," "); split(b,y," ");
    printf "%d %d %.1f %.2f %d %d %d\n", r, da/n, dc*1e6/k/n, (y[3]-x[3])*1000/n, y[4]-x[4], y[5]-x[5], y[6]-x[6]}'
}
med() { sort -g | awk '{a[NR]=$1} END{ if (NR == 0) print "nan"; else print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2 }'; }
start_side a "$1" "$DLLA" "$TARGET"
start_side b "$2" "$DLLB" "$TARGET"
A=(); B=()
echo "pair  A: req/s B/req CPUµs GCµs gen0/1/2      B: req/s B/req CPUµs GCµs gen0/1/2"
for i in $(seq 1 "$PAIRS"); do
  x=$(window a); y=$(window b); A+=("$x"); B+=("$y")
  read -r xr xb xc xg x0 x1 x2 <<<"$x"; read -r yr yb yc yg y0 y1 y2 <<<"$y"
  printf '%4d  A: %6d %5d %5.1f %5.2f %d/%d/%d    B: %6d %5d %5.1f %5.2f %d/%d/%d\n' "$i" "$xr" "$xb" "$xc" "$xg" "$x0" "$x1" "$x2" "$yr" "$yb" "$yc" "$yg" "$y0" "$y1" "$y2"
done
col() { printf '%s\n' "$@" | awk -v c="$COLN" '{print $c}'; }
COLN=1; ra=$(col "${A[@]}" | med); rb=$(col "${B[@]}" | med)
COLN=3; ca=$(col "${A[@]}" | med); cb=$(col "${B[@]}" | med)
dc=$(paste -d' ' <(printf '%s\n' "${A[@]}") <(printf '%s\n' "${B[@]}") | awk '{print $10 - $3}' | med)
echo "A=$1: median $ra req/s, $ca CPU µs/req"
echo "B=$2: median $rb req/s, $cb CPU µs/req"
echo "B - A, CPU µs per request, median of the pairs: $dc   (load $(cut -d' ' -f1 /proc/loadavg))"
