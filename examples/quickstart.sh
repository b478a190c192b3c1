#!/usr/bin/env bash
# The main job, end to end, on one machine: build the example project under examples/ into
#   127.0.0.1:5000/seelie/<you>-training:quickstart
# and push it to a local registry that requires a password, then run the pushed image.
# On a machine that already runs Docker it uses it; on a fresh Debian machine (as root) it first
# installs and starts what it needs from Debian's packages and says what it installs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

if [[ ! -x node_modules/.bin/bun ]]; then
  echo "[quickstart] installing seelie's npm dependencies (Bun comes from npm)" >&2
  npm ci --no-audit --no-fund >&2
fi
if [[ $(id -u) -ne 0 ]] && ! docker info >/dev/null 2>&1; then
  echo "[quickstart] no running Docker engine, and installing one needs root: run this as root (or start Docker first)" >&2
  exit 1
fi
# An engine (unless one runs), a local registry with a password, and a Python base image. Nothing
# else is installed or configured: `npm test` installs the rest (Podman, Buildah, …) with their own
# config files, so none of theirs is written here first.
bash tests/services/up.sh quickstart
# shellcheck source=/dev/null
source "${SEELIE_TEST_DIR:-/var/lib/seelie-test}/env.sh"

export SEELIE_REGISTRY_HOST=$SEELIE_TEST_REGISTRY SEELIE_REPO=seelie
export SEELIE_USERNAME=${SEELIE_USERNAME:-$(id -un | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9\n' '-')}
export DOCKER_CONFIG=$SEELIE_TEST_DOCKER_CONFIG   # the registry's credentials, as `docker login` writes them

result=$(mktemp)
trap 'rm -f "$result"' EXIT
echo "[quickstart] seelie image build --project_dir examples/hello-training --push" >&2
bun bin/seelie.ts image build --project_dir examples/hello-training \
  --base_image "$SEELIE_TEST_PYTHON" --tag quickstart --repo_type training --push -o json | tee "$result"

image=$(bun -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).image)' "$result")
docker=/usr/bin/docker; [[ -x $docker ]] || docker=docker
echo "[quickstart] pulling $image back from the registry and running it" >&2
$docker --config "$DOCKER_CONFIG" rmi "$image" >/dev/null
$docker --config "$DOCKER_CONFIG" pull -q "$image" >/dev/null
$docker run --rm -w /workspace/code "$image" python3 train.py
