#!/usr/bin/env bash
# Every benchmark, one after the other, against the real services (started if needed).
# Usage: bash bench/run.sh [image-build|fastcommit|jobs …]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
export PATH="$PWD/node_modules/.bin:$PATH"
[[ -d node_modules ]] || npm ci --no-audit --no-fund >&2
bash tests/services/up.sh >&2
# shellcheck source=/dev/null
source "${SEELIE_TEST_DIR:-/var/lib/seelie-test}/env.sh"
names=("$@")
((${#names[@]})) || names=(image-build fastcommit jobs)
for n in "${names[@]}"; do
  if [[ -f bench/$n.ts ]]; then
    echo "== bench/$n.ts"
    bun "bench/$n.ts"
  else
    echo "== bench/$n.ts: not present" >&2
  fi
done
