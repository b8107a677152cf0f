#!/usr/bin/env bash
# Builds Reliant's server image from a built binary and the web app's build, with no registry:
# rootfs.sh assembles the file system, then podman builds deploy/image/Containerfile FROM
# scratch. Tags localhost/reliant:VERSION (from `reliant version`) and localhost/reliant:latest
# (podman's name for reliant:latest, spelled out so that `docker load` keeps it), in a container
# store of its own under OUT_DIR (vfs driver: nothing of the machine's podman configuration is
# read or changed, and it works from a clean clone, in CI, and nested in a container), and
# writes OUT_DIR/reliant-image.tar, which `podman load -i` or `docker load -i` takes.
#   deploy/image/build.sh [RELIANT_BINARY [WEB_DIST [OUT_DIR]]]
#       defaults: build/src/app/reliant, web/dist, build/image (tools/setup.sh builds the first two)
#   deploy/image/build.sh --tags [RELIANT_BINARY]   print the tags it would make, build nothing
# To use its store directly: CONTAINERS_STORAGE_CONF=OUT_DIR/storage.conf
# CONTAINERS_CONF=OUT_DIR/containers.conf podman image ls
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
die() { echo "build: $*" >&2; exit 1; }

print_tags=""
if [ "${1:-}" = "--tags" ]; then print_tags=1; shift; fi
binary=$(realpath "${1:-$repo/build/src/app/reliant}")
[ -x "$binary" ] || die "no binary at $binary (tools/setup.sh --build-only builds it)"
version=$("$binary" version | awk '{print $2}')
# A tag is at most 128 of [A-Za-z0-9_.-]; a version string that is not one is a mistake.
[[ "$version" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "'$binary version' gives '$version', no tag"
tags=("localhost/reliant:$version" "localhost/reliant:latest")
if [ -n "$print_tags" ]; then echo "${tags[*]}"; exit 0; fi

command -v podman >/dev/null || die "podman is not installed: run tools/setup.sh"
web=$(realpath "${2:-$repo/web/dist}")
out=${3:-$repo/build/image}
mkdir -p "$out"
out=$(realpath "$out")

# The store's own configuration. One layer, so vfs (which copies each layer whole) costs
# nothing over overlay, and it needs neither kernel overlay support nor fuse-overlayfs.
mkdir -p "$out/storage/tmp"
cat >"$out/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$out/storage/graph"
runroot = "$out/storage/run"
CONF
cat >"$out/containers.conf" <<CONF
[engine]
tmp_dir = "$out/storage/tmp"
events_logger = "none"
[network]
network_config_dir = "$out/storage/networks"
CONF
export CONTAINERS_STORAGE_CONF="$out/storage.conf" CONTAINERS_CONF="$out/containers.conf"

rm -rf "$out/rootfs" "$out/context"
"$here/rootfs.sh" "$binary" "$web" "$out/rootfs"
# Packed here rather than COPYed so that owners do not depend on who runs the build: everything
# is root's but the data directory, which is the reliant user's (tar --owner, no chown needed).
uid=$(awk -F: '$1 == "reliant" {print $3}' "$out/rootfs/etc/passwd")
mkdir "$out/context"
tar -C "$out/rootfs" --sort=name --numeric-owner --owner=0 --group=0 \
  --exclude=./var/lib/reliant -cf "$out/context/rootfs.tar" .
tar -C "$out/rootfs" --numeric-owner --owner="$uid" --group="$uid" \
  -rf "$out/context/rootfs.tar" ./var/lib/reliant

# No layer cache (--layers=false): the one layer is new at each build anyway.
podman build --quiet --layers=false --file "$here/Containerfile" \
  --build-arg VERSION="$version" --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  "${tags[@]/#/--tag=}" "$out/context" >/dev/null
podman image prune --force >/dev/null  # a rebuild's previous image, now untagged
rm -f "$out/reliant-image.tar"
podman save --quiet --format docker-archive --multi-image-archive \
  --output "$out/reliant-image.tar" "${tags[@]}"
size=$(podman image inspect --format '{{.Size}}' "${tags[0]}")
echo "build: ${tags[*]} ($((size / 1000000)) MB) in $out; load it elsewhere with" \
  "podman load -i $out/reliant-image.tar (or docker load -i)"
