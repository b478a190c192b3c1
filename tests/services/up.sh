#!/usr/bin/env bash
# Installs (from Debian's packages) and starts, on loopback, every real service the tests use:
# containerd, dockerd, a registry that requires a password, two Podman services ("regions") each
# behind its own SOCKS5 proxy (one proxy with a password), and the locally made base images.
# Idempotent: a service that already answers is left alone. Writes tests/services/env.sh-style
# variables to $SEELIE_TEST_DIR/env.sh for the tests to read.
#
# Usage: bash tests/services/up.sh              (as root) everything the tests use
#        bash tests/services/up.sh quickstart   an engine (an already running Docker is used as is),
#                                               the registry and the base images only
set -euo pipefail
MODE=${1:-all}

T=${SEELIE_TEST_DIR:-/var/lib/seelie-test}
LOGS=$T/logs
mkdir -p "$T" "$LOGS" "$T/cache"
say() { echo "[services] $*" >&2; }
# shellcheck source=/dev/null
source "$(dirname "$0")/apt.sh"

# ---------------------------------------------------------------- packages
PKGS=(docker-registry busybox-static debootstrap apache2-utils curl ca-certificates)
ENGINE_RUNNING=0
if [[ $MODE == quickstart ]] && command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  ENGINE_RUNNING=1
  say "using the Docker engine that already runs here"
else
  PKGS+=(containerd runc docker.io)
fi
if [[ $MODE == all ]]; then
  PKGS+=(podman crun conmon fuse-overlayfs uidmap microsocks buildah skopeo umoci dash iproute2 shellcheck)
fi
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  say "installing from Debian's packages: ${missing[*]}"
  : >"$LOGS/apt.log"
  apt_install "$LOGS/apt.log" "${missing[@]}" || { tail -30 "$LOGS/apt.log" >&2; exit 1; }
fi
# Debian's client, matching its 20.10 engine (a newer client may sit earlier in PATH).
DOCKER=/usr/bin/docker
[[ -x $DOCKER ]] || DOCKER=$(command -v docker)

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local n=$1 what=$2; shift 2
  for ((i = 0; i < n * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  say "timed out waiting for $what"; return 1
}
start_bg() { # start_bg NAME COMMAND... : start detached, log to $LOGS/NAME.log
  local name=$1; shift
  setsid "$@" >"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! >"$T/$name.pid"
}

# ---------------------------------------------------------------- containerd + dockerd
if ((ENGINE_RUNNING == 0)) && ! ctr version >/dev/null 2>&1; then
  say "starting containerd"
  start_bg containerd containerd
  wait_for 20 containerd ctr version
fi
if ((ENGINE_RUNNING == 0)) && ! "$DOCKER" info >/dev/null 2>&1; then
  say "starting dockerd"
  start_bg dockerd dockerd --containerd=/run/containerd/containerd.sock
  wait_for 40 dockerd "$DOCKER" info || { tail -20 "$LOGS/dockerd.log" >&2; exit 1; }
fi

# ---------------------------------------------------------------- registry with a password
REG_ADDR=127.0.0.1:5000
REG_USER=seelie
if [[ ! -f $T/registry.password ]]; then
  head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$T/registry.password"
fi
REG_PASS=$(cat "$T/registry.password")
htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$T/htpasswd"
cat >"$T/registry.yml" <<EOF
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $T/registry }, delete: { enabled: true } }
http: { addr: $REG_ADDR }
auth: { htpasswd: { realm: basic-realm, path: $T/htpasswd } }
EOF
if ! curl -s -o /dev/null -w '%{http_code}' "http://$REG_ADDR/v2/" | grep -q 401; then
  say "starting the registry on $REG_ADDR (htpasswd auth)"
  start_bg registry docker-registry serve "$T/registry.yml"
  wait_for 20 registry bash -c "curl -s -o /dev/null -w '%{http_code}' http://$REG_ADDR/v2/ | grep -q 401"
fi

# Podman and Buildah talk plain HTTP to the loopback registry (Docker does so for 127.0.0.0/8 by
# itself). /etc/containers belongs to containers-common, installed above only in "all" mode: the quick
# start writes nothing there, so no package meets a config file it did not expect.
if [[ $MODE == all ]]; then
  mkdir -p /etc/containers/registries.conf.d
  if [[ ! -f /etc/containers/policy.json ]]; then
    # containers-common ships it; without it Podman and Buildah refuse every image.
    echo '{"default":[{"type":"insecureAcceptAnything"}]}' >/etc/containers/policy.json
  fi
  cat >/etc/containers/registries.conf.d/50-seelie-test.conf <<EOF
[[registry]]
location = "$REG_ADDR"
insecure = true
EOF
fi

# A Docker config with the registry's credentials, as a user's ~/.docker/config.json would hold them.
mkdir -p "$T/docker-config"
AUTH=$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG_ADDR" "$AUTH" >"$T/docker-config/config.json"
chmod 600 "$T/docker-config/config.json"

# ---------------------------------------------------------------- two Podman "regions" behind SOCKS5
# region-a: podman on 127.0.0.1:8881, proxy 127.0.0.1:1081 without auth
# region-b: podman on 127.0.0.1:8882, proxy 127.0.0.1:1082 with username/password
PROXY_B_USER=proxyuser
if [[ ! -f $T/proxy.password ]]; then
  head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$T/proxy.password"
fi
PROXY_B_PASS=$(cat "$T/proxy.password")
for r in a b; do
  [[ $MODE == all ]] || break
  port=$([[ $r == a ]] && echo 8881 || echo 8882)
  if ! curl -sf "http://127.0.0.1:$port/_ping" >/dev/null; then
    say "starting podman service region-$r on 127.0.0.1:$port"
    mkdir -p "$T/podman-$r/root" "/run/seelie-podman-$r"
    # crun refuses cgroup v1 "hybrid" hosts; runc with cgroupfs works on this machine kind.
    start_bg "podman-$r" podman --runtime runc --cgroup-manager cgroupfs --root "$T/podman-$r/root" --runroot "/run/seelie-podman-$r" \
      --storage-driver overlay system service --time=0 "tcp:127.0.0.1:$port"
    wait_for 30 "podman region-$r" curl -sf "http://127.0.0.1:$port/_ping"
  fi
done
if [[ $MODE == all ]] && ! (exec 3<>/dev/tcp/127.0.0.1/1081) 2>/dev/null; then
  say "starting SOCKS5 proxy 127.0.0.1:1081 (no auth)"
  start_bg socks-a microsocks -i 127.0.0.1 -p 1081
  wait_for 10 socks-a bash -c 'exec 3<>/dev/tcp/127.0.0.1/1081'
fi
if [[ $MODE == all ]] && ! (exec 3<>/dev/tcp/127.0.0.1/1082) 2>/dev/null; then
  say "starting SOCKS5 proxy 127.0.0.1:1082 (username/password)"
  # microsocks takes the password on its command line only; this is the test proxy, not seelie.
  start_bg socks-b microsocks -i 127.0.0.1 -p 1082 -u "$PROXY_B_USER" -P "$PROXY_B_PASS"
  wait_for 10 socks-b bash -c 'exec 3<>/dev/tcp/127.0.0.1/1082'
fi

# ---------------------------------------------------------------- base images
# busybox: busybox-static plus its applet links. python: a debootstrap tree with python3 and pip.
reg_has() { curl -sf -u "$REG_USER:$REG_PASS" "http://$REG_ADDR/v2/$1/manifests/$2" \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' >/dev/null; }
echo "$REG_PASS" | "$DOCKER" --config "$T/docker-config" login -u "$REG_USER" --password-stdin "$REG_ADDR" >/dev/null 2>&1 || true

BUSYBOX=$REG_ADDR/seelie/busybox:1
if ! reg_has seelie/busybox 1; then
  say "making $BUSYBOX from busybox-static"
  R=$(mktemp -d)
  mkdir -p "$R/bin" "$R/tmp" "$R/etc" "$R/root" "$R/usr/bin" "$R/sbin"
  chmod 1777 "$R/tmp"
  cp /bin/busybox "$R/bin/busybox"
  for a in $("$R/bin/busybox" --list); do [[ -e $R/bin/$a ]] || ln -s busybox "$R/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$R/etc/passwd"
  echo 'root:x:0:' >"$R/etc/group"
  tar -C "$R" -c . | "$DOCKER" import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["sh"]' - "$BUSYBOX" >/dev/null
  rm -rf "$R"
  "$DOCKER" --config "$T/docker-config" push "$BUSYBOX" >/dev/null
fi

# Like Debian 12's own python3 (and Ubuntu 24.04's): Debian's EXTERNALLY-MANAGED marker in place and
# no PIP_BREAK_SYSTEM_PACKAGES, so a plain `pip install` fails there as it does on the real bases (PEP 668).
# A new tag, not seelie/python:3 (which hid PEP 668 behind ENV PIP_BREAK_SYSTEM_PACKAGES=1): a machine
# that still holds the old tag gets the hostile one too.
PYTHON=$REG_ADDR/seelie/python:3-pep668
if ! reg_has seelie/python 3-pep668; then
  ROOT=$T/cache/pyroot
  if [[ ! -x $ROOT/usr/bin/pip3 ]]; then
    MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    MIRROR=${MIRROR:-http://deb.debian.org/debian}
    say "making $PYTHON with debootstrap from $MIRROR (takes a few minutes)"
    rm -rf "$ROOT"
    debootstrap --variant=minbase --include=python3,python3-pip bookworm "$ROOT" "$MIRROR" \
      >"$LOGS/debootstrap.log" 2>&1 || { tail -20 "$LOGS/debootstrap.log" >&2; exit 1; }
    rm -rf "$ROOT"/var/cache/apt/archives/*.deb
  fi
  if ! compgen -G "$ROOT/usr/lib/python3*/EXTERNALLY-MANAGED" >/dev/null; then
    say "$ROOT has no EXTERNALLY-MANAGED marker: Debian's python3 ships one; remove $ROOT and run again"; exit 1
  fi
  tar -C "$ROOT" -c . | "$DOCKER" import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["python3"]' - "$PYTHON" >/dev/null
  "$DOCKER" --config "$T/docker-config" push "$PYTHON" >/dev/null
fi

# ---------------------------------------------------------------- what the tests read
cat >"$T/env.sh" <<EOF
export SEELIE_TEST_DIR=$T
export SEELIE_TEST_REGISTRY=$REG_ADDR
export SEELIE_TEST_REGISTRY_USER=$REG_USER
export SEELIE_TEST_REGISTRY_PASSWORD_FILE=$T/registry.password
export SEELIE_TEST_DOCKER_CONFIG=$T/docker-config
export SEELIE_TEST_BUSYBOX=$BUSYBOX
export SEELIE_TEST_PYTHON=$PYTHON
export SEELIE_TEST_PODMAN_A=tcp://127.0.0.1:8881
export SEELIE_TEST_PODMAN_B=tcp://127.0.0.1:8882
export SEELIE_TEST_SOCKS_A=socks5://127.0.0.1:1081
export SEELIE_TEST_SOCKS_B=socks5://127.0.0.1:1082
export SEELIE_TEST_SOCKS_B_USER=$PROXY_B_USER
export SEELIE_TEST_SOCKS_B_PASSWORD_FILE=$T/proxy.password
export SEELIE_TEST_CONTAINERD_SOCK=/run/containerd/containerd.sock
export SEELIE_TEST_DOCKER_SOCK=/var/run/docker.sock
EOF
say "all services up; variables in $T/env.sh"

# ---------------------------------------------------------------- the Kubernetes test cluster
# From ../shared/k8s when it is there; a cluster that does not start fails the cluster tests, not these services.
[[ $MODE != all ]] || bash "$(dirname "${BASH_SOURCE[0]}")/cluster-up.sh" || say "the Kubernetes test cluster did not start (see above): the cluster tests will fail saying so"

# ---------------------------------------------------------------- in-cluster builder images (cloud-build tests)
# Kaniko, BuildKit rootless and Buildah images made from ../shared/builders and Debian's packages,
# loaded into dockerd (the cluster's dockershim node); skipped where the bundle is absent. A failure
# here fails the cloud-build cluster tests (they run the script again and show why), not these services.
BUILDERS_DIR=${SEELIE_BUILDERS_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/builders}
if [[ $MODE == all && -d $BUILDERS_DIR ]]; then
  SEELIE_BUILDERS_DIR=$BUILDERS_DIR bash "$(dirname "$0")/builder-images.sh" ||
    say "the in-cluster builder images could not be made (see above): the cloud-build cluster tests will fail saying so"
fi
