#!/usr/bin/env bash
# `make image`: the root Dockerfile built by the local engine with the
# classic builder, on the local base images (base-images.sh) since no
# registry is reachable here. The release pipeline builds the same file on
# the public bases. Usage: build.sh TAG [VERSION]
set -euo pipefail
log() { printf '== image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
trap 'die "line $LINENO: $BASH_COMMAND failed"' ERR

[ "$#" -ge 1 ] || die "usage: build.sh TAG [VERSION]"
tag="$1"
version="${2:-dev}"
docker="${DOCKER:-docker}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

"$here/base-images.sh" build runtime
log "building $tag (version $version)"
# Host networking: the build stage reaches the module proxy the way this
# machine does, whether or not the engine has a bridge.
DOCKER_BUILDKIT=0 "$docker" build --network host \
  --build-arg BUILD_IMAGE=bookstore-base/build:local \
  --build-arg RUNTIME_IMAGE=bookstore-base/runtime:local \
  --build-arg GOPROXY="$(go env GOPROXY)" \
  --build-arg GONOSUMDB="$(go env GONOSUMDB)" \
  --build-arg VERSION="$version" \
  -t "$tag" "$root" >&2
"$docker" image inspect -f "$tag: {{.Size}} bytes, user {{.Config.User}}" "$tag"
