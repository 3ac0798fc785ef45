#!/usr/bin/env bash
# The whole test run on a fresh Debian machine with the .NET SDK: installs what is missing, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v dotnet >/dev/null || { echo "test.sh: the .NET SDK 10 is required (dotnet not on PATH)" >&2; exit 1; }
# Tools the test suite starts: redis-server for the distributed tests (needed once they exist; cheap to check).
command -v redis-server >/dev/null || need+=(redis-server)
if ((${#need[@]})); then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "test.sh: missing ${need[*]}; run as root on Debian to install them, or install them yourself" >&2
    exit 1
  fi
fi

dotnet build RoomActors.sln -c Release -nologo -v q
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test RoomActors.sln -c Release --no-build --blame-hang-timeout 10m --logger "console;verbosity=normal" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain closing line: "N passed, N failed".
count() { awk -v k="$1" '$1 == k":" && $2 ~ /^[0-9]+$/ && NF == 2 { n += $2 } END { print n + 0 }' "$log"; }
passed=$(count Passed); failed=$(count Failed); skipped=$(count Skipped)
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
if [ "$status" -eq 0 ] && [ "${passed:-0}" -eq 0 ]; then
  echo "test.sh: no test ran" >&2
  exit 1
fi
exit "$status"
