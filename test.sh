#!/usr/bin/env bash
# The whole test run on a fresh Debian machine with the .NET SDK: installs what is missing, builds, runs every test.
# --long: the long mode of the tests that have one (ROOMACTORS_LONG_TESTS=1: the chaos soak runs 10 minutes, not 90 s).
set -euo pipefail
cd "$(dirname "$0")"

hang_timeout=10m
case "${1:-}" in
  --long) export ROOMACTORS_LONG_TESTS=1; hang_timeout=20m ;;
  "") ;;
  *) echo "test.sh: unknown argument $1 (the only one is --long: the 10-minute chaos soak)" >&2; exit 2 ;;
esac

need=()
command -v dotnet >/dev/null || { echo "test.sh: the .NET SDK 10 is required (dotnet not on PATH)" >&2; exit 1; }
# Tools the test suite starts: redis-server for the distributed tests (needed once they exist; cheap to check), node
# for the JavaScript client's tests (clients/js), chromium for the MUD page's browser tests (driven by Playwright, which
# never downloads a browser of its own: tests/RoomActors.Tests/Browser).
command -v redis-server >/dev/null || need+=(redis-server)
command -v node >/dev/null || need+=(nodejs)
# npm installs the deploy/ checks' two packages (kubernetes-models, yaml) from deploy/package-lock.json.
command -v npm >/dev/null || need+=(npm)
[ -n "${CHROMIUM_PATH:-}" ] || command -v chromium >/dev/null || need+=(chromium)
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

# The JavaScript client's tests need a global WebSocket: node 20.10 or later (with --experimental-websocket on 20).
node_version=$(node -p 'process.versions.node')
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 10) ? 0 : 1)' \
  || { echo "test.sh: node $node_version is too old for clients/js/test (needs 20.10 or later); install a newer node" >&2; exit 1; }

# The deploy/ checks' packages, from the committed lock: installed when deploy/node_modules is missing or was
# installed from another lock (its hash is kept in node_modules).
lock_hash=$(sha256sum deploy/package-lock.json | cut -d' ' -f1)
if [ "$(cat deploy/node_modules/.lock-sha256 2>/dev/null)" != "$lock_hash" ]; then
  (cd deploy && npm ci --no-audit --no-fund --loglevel=error) \
    || { echo "test.sh: npm ci in deploy/ failed; the deploy checks need kubernetes-models and yaml from the npm registry" >&2; exit 1; }
  echo "$lock_hash" > deploy/node_modules/.lock-sha256
fi

# The Yjs interop packages (yjs, y-protocols, y-websocket and its 1.5.4 Node server), from the committed lock: the
# document room's tests run the real clients, and the Yjs update format tests use yjs as the oracle (tests/yjs).
lock_hash=$(sha256sum tests/yjs/package-lock.json | cut -d' ' -f1)
if [ "$(cat tests/yjs/node_modules/.lock-sha256 2>/dev/null)" != "$lock_hash" ]; then
  (cd tests/yjs && npm ci --no-audit --no-fund --loglevel=error) \
    || { echo "test.sh: npm ci in tests/yjs failed; the document tests need yjs, y-protocols and y-websocket from the npm registry" >&2; exit 1; }
  echo "$lock_hash" > tests/yjs/node_modules/.lock-sha256
fi

dotnet build RoomActors.sln -c Release -nologo -v q
log=$(mktemp)
jslog=$(mktemp)
deploylog=$(mktemp)
yjslog=$(mktemp)
trap 'rm -f "$log" "$jslog" "$deploylog" "$yjslog"' EXIT
set +e
dotnet test RoomActors.sln -c Release --no-build --blame-hang-timeout "$hang_timeout" --logger "console;verbosity=normal" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# Against the built all-in-one server, which the tests start and stop themselves.
node --experimental-websocket --test clients/js/test/ 2>&1 | tee "$jslog"
jsstatus=${PIPESTATUS[0]}
# The container files, the Kubernetes manifests and the Grafana dashboard (deploy/test; no Docker engine, no cluster).
node --test deploy/test/*.test.mjs 2>&1 | tee "$deploylog"
deploystatus=${PIPESTATUS[0]}
# The document room with the real Yjs clients (yjs on the stock y-websocket provider), all-in-one and on Redis.
node --test tests/yjs/test/ 2>&1 | tee "$yjslog"
yjsstatus=${PIPESTATUS[0]}
set -e

# One plain closing line: "N passed, N failed, N skipped", the .NET and the node tests together.
count() { awk -v k="$1" '$1 == k":" && $2 ~ /^[0-9]+$/ && NF == 2 { n += $2 } END { print n + 0 }' "$log"; }
jscount() { awk -v k="$1" '$1 == "#" && $2 == k && $3 ~ /^[0-9]+$/ && NF == 3 { n += $3 } END { print n + 0 }' "$jslog" "$deploylog" "$yjslog"; }
passed=$(( $(count Passed) + $(jscount pass) ))
failed=$(( $(count Failed) + $(jscount fail) + $(jscount cancelled) ))
skipped=$(( $(count Skipped) + $(jscount skipped) + $(jscount todo) ))
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
if [ "$status" -eq 0 ] && [ "${passed:-0}" -eq 0 ]; then
  echo "test.sh: no test ran" >&2
  exit 1
fi
if [ "$status" -eq 0 ] && [ "$jsstatus" -ne 0 ]; then
  status=$jsstatus
fi
if [ "$status" -eq 0 ] && [ "$deploystatus" -ne 0 ]; then
  status=$deploystatus
fi
if [ "$status" -eq 0 ] && [ "$yjsstatus" -ne 0 ]; then
  status=$yjsstatus
fi
exit "$status"
