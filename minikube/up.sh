#!/usr/bin/env bash
# The two test clusters of the SPEC (§2), one per container runtime, both Kubernetes v1.21.10 on
# minikube's Docker driver, plus what `seelie image commit --pod` needs in them (the committer
# namespace and RBAC from pods/committer/rbac.yaml).
#
# Usage: minikube/up.sh docker|containerd [--china] [more minikube start flags…]
#   docker      → profile (and kubectl context) k8s-docker:      pods' containers are docker://…,
#                 socket /var/run/docker.sock on the node
#   containerd  → profile (and kubectl context) k8s-containerd:  pods' containers are containerd://…
#                 in containerd namespace k8s.io, socket /run/containerd/containerd.sock
#   --china     → the mirror flags from the original request, for machines in China
# Idempotent: a running profile is left as it is (minikube start on it only reconciles).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; }
runtime=${1:-}
case "$runtime" in
  docker | containerd) shift ;;
  -h | --help) usage; exit 0 ;;
  *) usage; exit 2 ;;
esac
profile="k8s-$runtime"
china=0
extra=()
for a in "$@"; do
  case "$a" in
    --china) china=1 ;;
    *) extra+=("$a") ;;
  esac
done

for tool in minikube kubectl docker; do
  command -v "$tool" >/dev/null || { echo "up.sh: $tool is not installed (see minikube/README.md)" >&2; exit 1; }
done

flags=(--driver=docker --kubernetes-version=v1.21.10 "--container-runtime=$runtime" -p "$profile" --wait=all)
if ((china)); then
  flags+=(--image-mirror-country=cn
    --image-repository=registry.cn-hangzhou.aliyuncs.com/google_containers
    --registry-mirror=https://registry.docker-cn.com
    --base-image=kicbase/stable:v0.0.36)
fi

echo "+ minikube start ${flags[*]} ${extra[*]:-}" >&2
minikube start "${flags[@]}" ${extra[@]+"${extra[@]}"}

# minikube names the kubectl context after the profile.
kubectl --context "$profile" version
kubectl --context "$profile" get nodes -o wide

echo "+ committer namespace and RBAC (pods/committer/rbac.yaml)" >&2
kubectl --context "$profile" apply -f pods/committer/rbac.yaml

# Show where the runtime keeps its socket on the node (the committer Pod mounts that directory/file).
if [[ "$runtime" == docker ]]; then sock=/var/run/docker.sock; else sock=/run/containerd/containerd.sock; fi
minikube ssh -p "$profile" -- sudo ls -l "$sock"
echo "cluster $profile is up: kubectl --context $profile …, minikube ssh -p $profile" >&2
