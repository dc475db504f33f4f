#!/usr/bin/env bash
# Runs FlowScope's micro-benchmarks (BenchmarkDotNet, short job: see bench/FlowScope.Embedded.Benchmarks/BenchConfig.cs)
# and the retained-memory measurement, and keeps the reports under bench/results/<UTC timestamp>/.
#   bench/run.sh                     # everything (about 8-10 minutes on a 2-core machine)
#   bench/run.sh '*StoreBenchmarks*' # one class (any BenchmarkDotNet --filter glob)
set -euo pipefail
cd "$(dirname "$0")/.."

filter="${1:-*}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="bench/results/$stamp"
mkdir -p "$out"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "nproc: $(nproc)"
  lscpu | head -n 12
  echo "dotnet: $(dotnet --version)"
} > "$out/machine.txt"

dotnet build -c Release bench/FlowScope.Embedded.Benchmarks -nologo -v q
dotnet run -c Release --no-build --project bench/FlowScope.Embedded.Benchmarks -- \
  --filter "$filter" --artifacts "$out/bdn" 2>&1 | tee "$out/benchmarks.log"
dotnet run -c Release --no-build --project bench/FlowScope.Embedded.Benchmarks -- memory 2>&1 | tee "$out/memory.md"

# Keep only the GitHub-flavoured tables and the log; BenchmarkDotNet's other artifacts are large.
find "$out/bdn" -name '*-report-github.md' -exec cp {} "$out/" \;
rm -rf "$out/bdn"
echo "results in $out"
