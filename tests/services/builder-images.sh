#!/usr/bin/env bash
# Assembles the in-cluster builder images the cloud-build tests run (the public ones cannot be pulled
# here) and loads them into the cluster's dockerd node, where the build Pods run:
#   seelie-test/kaniko:v1.19.2            Kaniko executor from ../shared/builders, FROM scratch as upstream
#   seelie-test/buildkit:v0.11.6-rootless BuildKit rootless on Debian 12 (rootlesskit, runc, uidmap)
#   seelie-test/buildah:1.28              Debian 12's buildah package
#   seelie-test/debian:12                 the Debian 12 minbase they share (also the seelie-tools base)
# The two Debian trees are made with debootstrap + apt in a chroot and cached under
# $SEELIE_TEST_DIR/cache; an image is rebuilt only when its recipe (this script's inputs) changes.
# Test-only settings baked in: the test registry ($SEELIE_TEST_REGISTRY, plain HTTP on 127.0.0.1) is
# marked insecure for BuildKit (buildkitd.toml) and Buildah (registries.conf.d); Kaniko needs nothing
# (go-containerregistry speaks HTTP to loopback registries by itself).
# Writes the image names to $SEELIE_TEST_DIR/builder-images.env. Idempotent; run as root after
# tests/services/up.sh and the cluster (../shared/k8s/up.sh).
set -euo pipefail

T=${SEELIE_TEST_DIR:-/var/lib/seelie-test}
CACHE=$T/cache
LOGS=$T/logs
HERE=$(cd "$(dirname "$0")" && pwd)
BUILDERS=${SEELIE_BUILDERS_DIR:-$HERE/../../../shared/builders}
K8S_ENV=${SEELIE_K8S_STATE:-/var/lib/seelie-k8s}/env.sh
say() { echo "[builder-images] $*" >&2; }
die() { say "$*"; exit 1; }

[[ -f $T/env.sh ]] || die "$T/env.sh is missing: run tests/services/up.sh first"
# shellcheck source=/dev/null
source "$T/env.sh"
[[ -d $BUILDERS ]] || die "no builder binaries at $BUILDERS (set SEELIE_BUILDERS_DIR to the shared/builders bundle)"
if [[ -f $K8S_ENV ]]; then
  # shellcheck source=/dev/null
  source "$K8S_ENV"
fi
export DOCKER_HOST=unix://${SEELIE_K8S_DOCKER_SOCKET:-/var/run/docker.sock}
DOCKER=/usr/bin/docker
[[ -x $DOCKER ]] || DOCKER=$(command -v docker)
REG=${SEELIE_TEST_REGISTRY:-127.0.0.1:5000}
mkdir -p "$CACHE/builders" "$LOGS"

for p in debootstrap xz-utils; do
  dpkg -s "$p" >/dev/null 2>&1 || die "Debian package $p is missing (apt-get install $p)"
done

# ---------------------------------------------------------------- binaries (checked against the README)
unpack() { # unpack SRC.xz DEST SHA256
  local src=$1 dest=$2 sum=$3
  if [[ ! -f $dest ]] || ! echo "$sum  $dest" | sha256sum -c --status; then
    xz -dc "$src" >"$dest.tmp"
    echo "$sum  $dest.tmp" | sha256sum -c --status || die "$src does not unpack to sha256 $sum"
    chmod 0755 "$dest.tmp"
    mv "$dest.tmp" "$dest"
  fi
}
B=$CACHE/builders
unpack "$BUILDERS/kaniko/executor.xz" "$B/executor" 0d5874cb93d53d49a734814f2bdffddcd8095d178da1a949547bde8732c4d219
unpack "$BUILDERS/buildkit/buildkitd.xz" "$B/buildkitd" 26613efa3a136b351b043e15d86e432aa73f57f434f3341bdd13116b9f1ba6f3
unpack "$BUILDERS/buildkit/buildctl.xz" "$B/buildctl" aeffe86d517dbde8515585e7a04ba837f6df76b2b6d7f487b59e8804b043bcbe
install -m 0755 "$BUILDERS/buildkit/buildctl-daemonless.sh" "$B/buildctl-daemonless.sh"

# ---------------------------------------------------------------- Debian 12 trees
MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
BASE_ROOT=$CACHE/debian12-minbase
if [[ ! -f $BASE_ROOT/.seelie-complete ]]; then
  say "making a Debian 12 minbase tree with debootstrap from $MIRROR (a few minutes, once)"
  rm -rf "$BASE_ROOT"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$BASE_ROOT" "$MIRROR" \
    >"$LOGS/debootstrap-builders.log" 2>&1 || { tail -20 "$LOGS/debootstrap-builders.log" >&2; exit 1; }
  rm -rf "$BASE_ROOT"/var/cache/apt/archives/*.deb "$BASE_ROOT"/var/lib/apt/lists/*
  touch "$BASE_ROOT/.seelie-complete"
fi

tree_with() { # tree_with NAME PACKAGES... : a copy of the minbase tree with PACKAGES installed (cached)
  local name=$1; shift
  local root=$CACHE/$name stamp="$*"
  if [[ -f $root/.seelie-complete && $(cat "$root/.seelie-complete") == "$stamp" ]]; then return 0; fi
  say "installing into a Debian 12 tree for $name: $*"
  rm -rf "$root"
  cp -a "$BASE_ROOT" "$root"
  rm -f "$root/.seelie-complete"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # No package may start a daemon from inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  {
    chroot "$root" apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends "$@"
  } >"$LOGS/apt-$name.log" 2>&1 || { tail -20 "$LOGS/apt-$name.log" >&2; exit 1; }
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root/usr/sbin/policy-rc.d"
  : >"$root/etc/resolv.conf"
  echo "$stamp" >"$root/.seelie-complete"
}
tree_with buildkit-root rootlesskit runc uidmap libcap2-bin
tree_with buildah-root buildah

# ---------------------------------------------------------------- images
# recipe_of TEXT...: a short hash of everything an image is made from; an image whose label matches is kept.
recipe_of() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }
have_image() { # have_image REF RECIPE
  [[ $("$DOCKER" image inspect -f '{{index .Config.Labels "dev.seelie.test.recipe"}}' "$1" 2>/dev/null) == "$2" ]]
}
import_tree() { # import_tree ROOT REF
  local recipe
  recipe=$(recipe_of "$(cat "$1/.seelie-complete")" "$1")
  have_image "$2" "$recipe" && return 0
  say "importing $1 as $2"
  tar -C "$1" --exclude=./.seelie-complete -c . | "$DOCKER" import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c "LABEL dev.seelie.test.recipe=$recipe" - "$2" >/dev/null
}
build_image() { # build_image REF CONTEXT_DIR (Dockerfile on stdin)
  local ref=$1 ctx=$2 dockerfile recipe
  dockerfile=$(cat)
  recipe=$(recipe_of "$dockerfile" "$(cd "$ctx" && find . -type f -exec sha256sum {} + | sort)")
  have_image "$ref" "$recipe" && { say "$ref is up to date"; return 0; }
  say "building $ref"
  printf '%s\nLABEL dev.seelie.test.recipe=%s\n' "$dockerfile" "$recipe" >"$ctx/Dockerfile.seelie"
  "$DOCKER" build -q -f "$ctx/Dockerfile.seelie" -t "$ref" "$ctx" >/dev/null
}

DEBIAN_IMAGE=seelie-test/debian:12
KANIKO_IMAGE=seelie-test/kaniko:v1.19.2
BUILDKIT_IMAGE=seelie-test/buildkit:v0.11.6-rootless
BUILDAH_IMAGE=seelie-test/buildah:1.28
import_tree "$BASE_ROOT" "$DEBIAN_IMAGE"
import_tree "$CACHE/buildkit-root" seelie-test/buildkit-debian:12
import_tree "$CACHE/buildah-root" seelie-test/buildah-debian:12

CTX=$(mktemp -d)
trap 'rm -rf "$CTX"' EXIT

# Kaniko, as the upstream executor image (without the cloud credential helpers).
mkdir -p "$CTX/kaniko"
cp "$B/executor" "$CTX/kaniko/executor"
cp /etc/ssl/certs/ca-certificates.crt "$CTX/kaniko/ca-certificates.crt"
echo 'hosts: files dns' >"$CTX/kaniko/nsswitch.conf"
build_image "$KANIKO_IMAGE" "$CTX/kaniko" <<'EOF'
FROM scratch
COPY executor /kaniko/executor
COPY ca-certificates.crt /kaniko/ssl/certs/ca-certificates.crt
COPY nsswitch.conf /etc/nsswitch.conf
ENV HOME=/root USER=root PATH=/usr/local/bin:/kaniko SSL_CERT_DIR=/kaniko/ssl/certs DOCKER_CONFIG=/kaniko/.docker/
WORKDIR /workspace
ENTRYPOINT ["/kaniko/executor"]
EOF

# BuildKit rootless, as upstream moby/buildkit:*-rootless. Debian's setuid-root newuidmap fails in a
# Pod ("write to uid_map failed"): file capabilities instead.
mkdir -p "$CTX/buildkit"
cp "$B/buildkitd" "$B/buildctl" "$B/buildctl-daemonless.sh" "$CTX/buildkit/"
printf '[registry."%s"]\n  http = true\n  insecure = true\n' "$REG" >"$CTX/buildkit/buildkitd.toml"
build_image "$BUILDKIT_IMAGE" "$CTX/buildkit" <<'EOF'
FROM seelie-test/buildkit-debian:12
COPY buildkitd buildctl buildctl-daemonless.sh /usr/bin/
RUN useradd -u 1000 -U -m -s /bin/sh user \
 && echo user:100000:65536 >/etc/subuid && echo user:100000:65536 >/etc/subgid \
 && chmod 0755 /usr/bin/newuidmap /usr/bin/newgidmap \
 && setcap cap_setuid+ep /usr/bin/newuidmap && setcap cap_setgid+ep /usr/bin/newgidmap \
 && mkdir -p /run/user/1000 /home/user/.local/tmp /home/user/.local/share/buildkit /home/user/.config/buildkit \
 && chown -R 1000:1000 /run/user/1000 /home/user && chmod 0700 /run/user/1000
COPY --chown=1000:1000 buildkitd.toml /home/user/.config/buildkit/buildkitd.toml
USER 1000:1000
ENV HOME=/home/user USER=user XDG_RUNTIME_DIR=/run/user/1000 TMPDIR=/home/user/.local/tmp BUILDKIT_HOST=unix:///run/user/1000/buildkit/buildkitd.sock
VOLUME /home/user/.local/share/buildkit
ENTRYPOINT ["rootlesskit", "buildkitd"]
EOF

# Buildah from Debian's package; the test registry listens on plain HTTP.
mkdir -p "$CTX/buildah"
printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$REG" >"$CTX/buildah/seelie-test.conf"
build_image "$BUILDAH_IMAGE" "$CTX/buildah" <<'EOF'
FROM seelie-test/buildah-debian:12
COPY seelie-test.conf /etc/containers/registries.conf.d/50-seelie-test.conf
ENV BUILDAH_ISOLATION=chroot STORAGE_DRIVER=vfs
WORKDIR /
EOF

cat >"$T/builder-images.env" <<EOF
export SEELIE_TEST_DEBIAN_IMAGE=$DEBIAN_IMAGE
export SEELIE_TEST_KANIKO_IMAGE=$KANIKO_IMAGE
export SEELIE_TEST_BUILDKIT_IMAGE=$BUILDKIT_IMAGE
export SEELIE_TEST_BUILDAH_IMAGE=$BUILDAH_IMAGE
EOF
say "builder images in the dockerd of node ${SEELIE_K8S_DOCKER_NODE:-(no cluster env)}; names in $T/builder-images.env"
