#!/usr/bin/env bash
# End to end on a real cluster, the check to run before a release: start a notebook-like pod (with a
# sidecar), change files in it, `seelie image commit --pod` it, then run the committed image and
# check the changes are there and the clean-up did its job; also check what must not change (the
# source container still runs, a live socket in it survives) and that nothing is left behind.
#
# Usage: minikube/e2e-commit.sh docker|containerd
#   Needs: the cluster from `minikube/up.sh docker|containerd`, bun, docker (to build the committer
#   image and to pull and run the committed one), and a registry both this machine and the cluster
#   reach, with your credentials in ~/.docker/config.json (docker login):
#     E2E_REGISTRY=registry.example.com/seelie-e2e  (required; a repository prefix you may push to)
#     E2E_BASE_IMAGE=python:3.11-slim               (the notebook's image: has sh, python3, pip)
#     E2E_SIDECAR_IMAGE=busybox:1.36
#     E2E_KEEP=1                                    (keep the test namespace for a look afterwards)
# Exit status 0 when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."

runtime=${1:-}
case "$runtime" in docker | containerd) ;; *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;; esac
: "${E2E_REGISTRY:?set E2E_REGISTRY to a repository prefix you can push to, e.g. registry.example.com/seelie-e2e}"
ctx="k8s-$runtime"
ns="seelie-e2e"
stamp=$(date +%Y%m%d%H%M%S)
committer_image="seelie-committer:e2e-$stamp"
target="$E2E_REGISTRY/notebook-snapshot:$runtime-$stamp"
base=${E2E_BASE_IMAGE:-python:3.11-slim}
sidecar=${E2E_SIDECAR_IMAGE:-busybox:1.36}
k() { kubectl --context "$ctx" "$@"; }
step() { echo; echo "=== $*" >&2; }
fail() { echo "E2E FAILED: $*" >&2; exit 1; }

cleanup() {
  if [[ "${E2E_KEEP:-}" != 1 ]]; then k delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; fi
  docker rmi "$target" >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "cluster $ctx"
k get nodes -o wide || fail "no cluster $ctx: run minikube/up.sh $runtime"
k apply -f pods/committer/rbac.yaml >/dev/null

step "committer image $committer_image, loaded into the node (no registry needed for it)"
bun run build:committer
docker build -q -f pods/committer/Dockerfile -t "$committer_image" dist
minikube image load "$committer_image" -p "$ctx"

step "notebook-like pod in namespace $ns (notebook + a sidecar; the annotation picks the notebook)"
k create namespace "$ns" --dry-run=client -o yaml | k apply -f -
k -n "$ns" apply -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: notebook
  annotations:
    kubectl.kubernetes.io/default-container: notebook
spec:
  containers:
    - name: notebook
      image: $base
      command: [sh, -c, "mkdir -p /workspace && exec sleep 86400"]
    - name: proxy
      image: $sidecar
      command: [sh, -c, "exec sleep 86400"]
YAML
k -n "$ns" wait --for=condition=Ready pod/notebook --timeout=300s

step "the user's changes: work, caches, /tmp files (one dated years back), a live unix socket"
k -n "$ns" exec notebook -c notebook -- sh -c '
  set -e
  echo "my analysis" > /workspace/notes.txt
  mkdir -p /workspace/data && head -c 20000000 /dev/urandom > /workspace/data/blob.bin
  mkdir -p /root/.cache/pip/http && head -c 1000000 /dev/urandom > /root/.cache/pip/http/cached.whl
  mkdir -p /var/lib/apt/lists && echo stale > /var/lib/apt/lists/e2e_list
  echo scratch > /tmp/scratch.txt
  echo old > /tmp/backdated.txt && touch -d "2015-01-01" /tmp/backdated.txt
  nohup python3 -c "import socket,time; s=socket.socket(socket.AF_UNIX); s.bind(\"/tmp/live.sock\"); s.listen(); time.sleep(86400)" >/dev/null 2>&1 &
  sleep 1; test -S /tmp/live.sock
'
sum_before=$(k -n "$ns" exec notebook -c notebook -- sh -c 'md5sum /workspace/data/blob.bin | cut -d" " -f1')

step "seelie image commit --pod notebook (no -c: the default-container annotation)"
t0=$(date +%s)
out=$(bun bin/seelie.ts image commit --cluster "$ctx" --pod notebook -n "$ns" --image "$target" \
  --committer_image "$committer_image" --timeout 15m -o json) || fail "seelie image commit failed"
echo "$out"
echo "commit took $(($(date +%s) - t0)) s" >&2
field() { bun -e "const d=JSON.parse(process.argv[1]); console.log(String(d.$1 ?? ''))" "$out"; }
[[ "$(field runtime)" == "$runtime" ]] || fail "runtime is $(field runtime), expected $runtime"
[[ "$(field source.container)" == notebook ]] || fail "committed container $(field source.container), expected notebook"
[[ "$(field image)" == "$target" ]] || fail "image $(field image)"
[[ "$(field digest)" == sha256:* ]] || fail "no digest"
node=$(k -n "$ns" get pod notebook -o jsonpath='{.spec.nodeName}')
[[ "$(field node)" == "$node" ]] || fail "node $(field node), expected $node"

step "nothing left behind: no committer pod, no per-run secret"
for _ in $(seq 30); do
  left=$(k -n seelie-system get pods,secrets -l app.kubernetes.io/name=seelie-committer -o name 2>/dev/null || true)
  [[ -z "$left" ]] && break
  sleep 2
done
[[ -z "$left" ]] || fail "left behind in seelie-system: $left"

step "the source container still runs, its socket is alive"
k -n "$ns" exec notebook -c notebook -- test -S /tmp/live.sock || fail "the live socket is gone from the source container"
[[ "$(k -n "$ns" get pod notebook -o jsonpath='{.status.containerStatuses[?(@.name=="notebook")].state.running}')" != "" ]] || fail "the notebook container is not running"

step "the committed image: the work is there, caches and new /tmp files are gone"
docker pull -q "$target"
docker run --rm "$target" sh -c '
  set -e
  test "$(cat /workspace/notes.txt)" = "my analysis" || { echo "notes.txt missing"; exit 1; }
  md5sum /workspace/data/blob.bin | cut -d" " -f1
  for p in /root/.cache/pip/http/cached.whl /var/lib/apt/lists/e2e_list /tmp/scratch.txt /tmp/backdated.txt; do
    if test -e "$p"; then echo "not cleaned: $p"; exit 1; fi
  done
' >/tmp/seelie-e2e-check.$$ || { cat /tmp/seelie-e2e-check.$$ >&2; rm -f /tmp/seelie-e2e-check.$$; fail "the committed image is not as expected"; }
sum_after=$(tail -1 /tmp/seelie-e2e-check.$$)
rm -f /tmp/seelie-e2e-check.$$
[[ "$sum_before" == "$sum_after" ]] || fail "the 20 MB data file differs in the image"

step "a container that is not chosen by name among several: refused, listing the names"
k -n "$ns" annotate pod notebook kubectl.kubernetes.io/default-container- >/dev/null
if bun bin/seelie.ts image commit --cluster "$ctx" --pod notebook -n "$ns" --image "$target-x" --committer_image "$committer_image" 2>/tmp/seelie-e2e-err.$$; then
  fail "an ambiguous pod was committed"
fi
grep -q "notebook, proxy" /tmp/seelie-e2e-err.$$ || { cat /tmp/seelie-e2e-err.$$ >&2; fail "the error does not list the containers"; }
rm -f /tmp/seelie-e2e-err.$$

echo
echo "E2E PASSED on $ctx ($runtime): $target"
