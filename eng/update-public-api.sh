#!/usr/bin/env bash
# Adds every public symbol the build reports as undeclared (RS0016) to the project's PublicAPI.Unshipped.txt and
# removes every declared one that no longer exists (RS0017).
# Run it after a deliberate public API change, then review the diff: the API files are the record of what ships.
set -euo pipefail
cd "$(dirname "$0")/.."
for project in src/*/; do
  [ -f "$project/PublicAPI.Unshipped.txt" ] || continue
  csproj=$(cd "$project" && ls "$PWD"/*.csproj)
  # Only this project's diagnostics: a build also reports those of the projects it references.
  output=$(dotnet build "$project" --no-incremental 2>&1 | grep -F "[$csproj]" || true)
  removed=$(printf '%s\n' "$output" | grep -oE "RS0017: Symbol '[^']+'" | sed -E "s/RS0017: Symbol '(.*)'/\1/" | sort -u || true)
  if [ -n "$removed" ]; then
    grep -vxF -f <(printf '%s\n' "$removed") "$project/PublicAPI.Unshipped.txt" > "$project/PublicAPI.Unshipped.tmp" || true
    mv "$project/PublicAPI.Unshipped.tmp" "$project/PublicAPI.Unshipped.txt"
    echo "$project: $(printf '%s\n' "$removed" | wc -l) symbols removed"
  fi
  symbols=$(printf '%s\n' "$output" | grep -oE "RS0016: Symbol '[^']+'" | sed -E "s/RS0016: Symbol '(.*)'/\1/" | sort -u || true)
  if [ -n "$symbols" ]; then
    { cat "$project/PublicAPI.Unshipped.txt"; printf '%s\n' "$symbols"; } | awk 'NR==1 || !seen[$0]++' > "$project/PublicAPI.Unshipped.tmp"
    { head -n 1 "$project/PublicAPI.Unshipped.tmp"; tail -n +2 "$project/PublicAPI.Unshipped.tmp" | sort; } > "$project/PublicAPI.Unshipped.txt"
    rm "$project/PublicAPI.Unshipped.tmp"
    echo "$project: $(printf '%s\n' "$symbols" | wc -l) symbols added"
  fi
done
