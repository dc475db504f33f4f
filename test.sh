#!/usr/bin/env bash
# Runs every test of FlowScope.Embedded. On a fresh Debian/Ubuntu machine it first installs what the
# tests need: redis-server (Redis tests start their own server process) and chromium (dashboard tests
# drive it through Playwright; no browser is ever downloaded). Extra arguments go to `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    echo "Installing test prerequisites: ${need[*]}"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "Please install: ${need[*]} (the Redis and browser tests need them)" >&2
    exit 1
  fi
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET 10 SDK is required: https://dotnet.microsoft.com/download" >&2
  exit 1
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
dotnet test FlowScope.Embedded.sln -c Release "$@"
