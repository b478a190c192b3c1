#!/usr/bin/env bash
# The static checks, each a step of its own (CI runs them after the tests; `npm run check` runs all):
#   format  Biome's formatter finds nothing to change (`npm run format` fixes it)
#   lint    Biome's linter finds nothing
#   types   tsc --noEmit: Bun strips types without checking them
#   shell   shellcheck on every shell script in the repository (required, never skipped)
# Usage: bash tests/static-checks.sh [format|lint|types|shell]…   (none: all four)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export PATH="$PWD/node_modules/.bin:$PATH"

run_check() {
  case $1 in
    format) biome format . ;;
    lint) biome lint . ;;
    types) tsc --noEmit -p . ;;
    shell)
      if ! command -v shellcheck >/dev/null; then
        echo "shellcheck is not installed: tests/services/up.sh installs it (apt-get install shellcheck)" >&2
        return 1
      fi
      local scripts=()
      mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
      shellcheck -x "${scripts[@]}"
      ;;
    *) echo "unknown check '$1': format, lint, types or shell" >&2; return 2 ;;
  esac
}

failed=0
for c in "${@:-format lint types shell}"; do
  for check in $c; do
    echo "[check] $check" >&2
    run_check "$check" >&2 || { echo "[check] $check FAILED" >&2; failed=1; }
  done
done
exit "$failed"
