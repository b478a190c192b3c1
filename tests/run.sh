#!/usr/bin/env bash
# The test command (README): installs and starts the real services the tests use (Debian's
# packages, loopback only), type-checks, runs every test with bun, and ends with the line
# "N passed, N failed" from bun's own counts. Exits non-zero on any failure.
# Usage: bash tests/run.sh [bun test args…]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export PATH="$PWD/node_modules/.bin:$PATH"

if ! command -v bun >/dev/null 2>&1 || [[ ! -d node_modules ]]; then
  echo "[tests] installing npm dependencies (bun comes from npm)" >&2
  npm ci --no-audit --no-fund >&2 || npm install --no-audit --no-fund >&2 || exit 1
fi
bash tests/services/up.sh || { echo "0 passed, 1 failed"; echo "[tests] services did not start" >&2; exit 1; }
# shellcheck source=/dev/null
source "${SEELIE_TEST_DIR:-/var/lib/seelie-test}/env.sh"

# The compiled committer is what runs in committer pods; the tests run that very file.
bun run build:committer >&2 || { echo "0 passed, 1 failed"; exit 1; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
bun test --timeout 600000 "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
pass=$(grep -Eo '^ *[0-9]+ pass$' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
fail=$(grep -Eo '^ *[0-9]+ fail$' "$out" | tail -1 | grep -Eo '[0-9]+' || echo 0)
if [[ $rc -ne 0 && $fail -eq 0 ]]; then fail=1; fi   # bun failed without counting (e.g. a load error)
echo "${pass} passed, ${fail} failed"
[[ $rc -eq 0 && $fail -eq 0 ]]
