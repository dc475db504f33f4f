#!/usr/bin/env bash
# Adds every public symbol the build reports as undeclared (RS0016) to the project's PublicAPI.Unshipped.txt.
# Run it after a deliberate public API change, then review the diff: the API files are the record of what ships.
set -euo pipefail
cd "$(dirname "$0")/.."
for project in src/*/; do
  [ -f "$project/PublicAPI.Unshipped.txt" ] || continue
  symbols=$(dotnet build "$project" --no-incremental 2>&1 | grep -oE "RS0016: Symbol '[^']+'" | sed -E "s/RS0016: Symbol '(.*)'/\1/" | sort -u || true)
  if [ -n "$symbols" ]; then
    { cat "$project/PublicAPI.Unshipped.txt"; printf '%s\n' "$symbols"; } | awk 'NR==1 || !seen[$0]++' > "$project/PublicAPI.Unshipped.tmp"
    { head -n 1 "$project/PublicAPI.Unshipped.tmp"; tail -n +2 "$project/PublicAPI.Unshipped.tmp" | sort; } > "$project/PublicAPI.Unshipped.txt"
    rm "$project/PublicAPI.Unshipped.tmp"
    echo "$project: $(printf '%s\n' "$symbols" | wc -l) symbols added"
  fi
done
