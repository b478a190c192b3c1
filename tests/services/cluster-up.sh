#!/usr/bin/env bash
# Starts the real Kubernetes v1.21 test cluster (TLS with a private CA, client certificates, a
# dockershim node and a containerd node) from the ../shared/k8s bundle next to the repo, when that
# bundle is there (it is in CI). Idempotent: the bundle's up.sh only starts what is not running.
# Without the bundle it says why and exits 0; the cluster tests then fail naming the missing
# $SEELIE_K8S_STATE/env.sh (tests/helpers/cluster.ts) — they are never skipped.
# Usage: bash tests/services/cluster-up.sh   (SEELIE_K8S_BUNDLE=DIR to use another bundle)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bundle=${SEELIE_K8S_BUNDLE:-$repo/../shared/k8s}
if [[ ! -f $bundle/up.sh ]]; then
  echo "[cluster] no Kubernetes bundle at $bundle (../shared/k8s next to the repo): the cluster is not started, so the Kubernetes tests will fail saying so" >&2
  exit 0
fi
echo "[cluster] starting the Kubernetes test cluster from $bundle (state ${SEELIE_K8S_STATE:-/var/lib/seelie-k8s})" >&2
bash "$bundle/up.sh"
