#!/usr/bin/env bash
# Local stand-ins for the Dockerfile's base images, for machines that cannot
# pull from a registry (CI, the rehearsals): the Dockerfile takes its bases
# as build arguments, and `make image` points them here.
#
#   build    a Debian 12 root filesystem (debootstrap) with this machine's Go
#            toolchain, for the Dockerfile's build stage (golang:*-bookworm)
#   runtime  FROM scratch with what distroless/static:nonroot gives the
#            static binary: /etc/passwd for uid 65532, CA certificates,
#            time zones, /tmp
#   gateway  Debian 12 with nginx and wget, for the Swarm gateway
#            (nginx:*-alpine in production)
#
# The root filesystem and the images are cached under BOOKSTORE_IMAGE_CACHE
# (default /var/cache/bookstore-test) and in the engine: a second run only
# checks labels. Usage: base-images.sh [build|runtime|gateway]... (all by default)
set -euo pipefail
log() { printf '== base-images: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
trap 'die "line $LINENO: $BASH_COMMAND failed"' ERR

cache="${BOOKSTORE_IMAGE_CACHE:-/var/cache/bookstore-test}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
docker="${DOCKER:-docker}"
goroot="$(go env GOROOT)"
gover="$(go env GOVERSION)"
# Changing this script or the Go toolchain rebuilds the images.
key="$(sha256sum "$0" | cut -c1-12)-${gover}"
rootfs="$cache/debian12-rootfs"

make_rootfs() {
  [ -f "$rootfs/.complete" ] && return 0
  command -v debootstrap >/dev/null || die "debootstrap not found (apt-get install debootstrap)"
  log "debootstrap Debian 12 into $rootfs (once; cached)"
  mkdir -p "$cache"
  rm -rf "$rootfs.tmp"
  debootstrap --variant=minbase --include=ca-certificates,tzdata,nginx-light,wget \
    bookworm "$rootfs.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $cache/debootstrap.log"
  rm -rf "$rootfs.tmp"/var/cache/apt/archives/*.deb "$rootfs.tmp"/var/lib/apt/lists/*
  touch "$rootfs.tmp/.complete"
  rm -rf "$rootfs"
  mv "$rootfs.tmp" "$rootfs"
}

# current IMAGE: the image exists with this script's key.
current() {
  [ "$("$docker" image inspect -f '{{index .Config.Labels "org.tet-bookstore.base"}}' "$1" 2>/dev/null)" = "$key" ]
}

build_image() {
  local image=bookstore-base/build:local
  current "$image" && return 0
  make_rootfs
  log "$image: Debian 12 + $gover from $goroot"
  # One archive: the root filesystem's ./ members, GOROOT renamed to
  # usr/local/go, and this machine's CA bundle in place of Debian's, so
  # `go build` reaches the module proxy through whatever this machine
  # trusts (a TLS-inspecting egress proxy, a private module mirror).
  local base
  base="$(basename "$goroot")"
  tar -cf - -C "$rootfs" --exclude=./.complete --exclude=./etc/ssl/certs/ca-certificates.crt . \
    -C "$(dirname "$goroot")" --transform "s,^$base/,usr/local/go/,S" --transform "s,^$base\$,usr/local/go,S" "$base" \
    -C /etc/ssl/certs --transform 's,^ca-certificates.crt$,etc/ssl/certs/ca-certificates.crt,' ca-certificates.crt \
    | "$docker" import \
      --change 'ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change "LABEL org.tet-bookstore.base=$key" - "$image" >/dev/null
}

runtime_image() {
  local image=bookstore-base/runtime:local stage
  current "$image" && return 0
  make_rootfs
  log "$image: scratch + passwd (65532 nonroot), CA certificates, time zones"
  stage="$(mktemp -d)"
  mkdir -p "$stage/etc/ssl/certs" "$stage/usr/share" "$stage/tmp" "$stage/home/nonroot"
  chmod 1777 "$stage/tmp"
  chown 65532:65532 "$stage/home/nonroot"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$stage/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$stage/etc/group"
  cp "$rootfs/etc/ssl/certs/ca-certificates.crt" "$stage/etc/ssl/certs/"
  cp -a "$rootfs/usr/share/zoneinfo" "$stage/usr/share/"
  tar -C "$stage" --numeric-owner -cf - . \
    | "$docker" import --change 'USER 65532:65532' --change 'WORKDIR /home/nonroot' \
      --change "LABEL org.tet-bookstore.base=$key" - "$image" >/dev/null
  rm -rf "$stage"
}

gateway_image() {
  local image=bookstore-base/gateway:local
  current "$image" && return 0
  make_rootfs
  log "$image: Debian 12 + nginx, wget"
  # Debian's default site also listens on 80; the stack's config replaces it.
  tar -C "$rootfs" --exclude=./.complete --exclude=./etc/nginx/sites-enabled/default -cf - . \
    | "$docker" import --change 'CMD ["nginx", "-g", "daemon off;"]' \
      --change "LABEL org.tet-bookstore.base=$key" - "$image" >/dev/null
}

[ "$#" -gt 0 ] || set -- build runtime gateway
for what in "$@"; do
  case "$what" in
    build) build_image ;;
    runtime) runtime_image ;;
    gateway) gateway_image ;;
    *) die "unknown base image $what (build, runtime or gateway)" ;;
  esac
done
