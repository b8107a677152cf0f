#!/usr/bin/env bash
# The server image (deploy/image): builds it with deploy/image/build.sh into a container store
# of its own, mounts it (podman image mount) and, chrooted into its file system with an empty
# environment as its reliant user, runs `reliant version` and every server role's --help (every
# library is there), then a monolith whose web app must be served at / with its JS.
# No container can run on these machines, so chroot stands in for the runtime: the mounts a
# runtime makes (/proc, /dev, a /tmp, the data volume) are made in a private mount namespace,
# which vanishes with the process, and never show outside it.
# Needs root (chroot, mounts) and podman (tools/setup.sh installs it).
#   image.sh RELIANT_BINARY REPO_ROOT
set -euo pipefail
reliant=$(realpath "$1")
repo=$(realpath "$2")
source "$repo/tools/ports.sh"

work="" pid="" mounted=""
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done
  exit 1
}
[ "$(id -u)" -eq 0 ] || fail "needs root: it chroots into the image and mounts /proc and /dev there"
command -v podman >/dev/null || fail "podman is not installed: run tools/setup.sh"
[ -f "$repo/web/dist/index.html" ] || fail "$repo/web/dist is not built: run tools/setup.sh"

cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "$mounted" ] && podman image unmount "$mounted" >/dev/null 2>&1 || true
  # Nothing should be mounted under $work here (the mounts lived in the namespace); if
  # something is, deleting through it could reach the host's /dev: leave the folder.
  if grep -q " $work/" /proc/self/mountinfo; then
    echo "image.sh: something is still mounted under $work; not deleting it" >&2
  else
    rm -rf "$work"
  fi
}
work=$(mktemp -d)
trap cleanup EXIT

started=$SECONDS
"$repo/deploy/image/build.sh" "$reliant" "$repo/web/dist" "$work/image" >"$work/build.log" 2>&1 ||
  fail "deploy/image/build.sh failed"
build_seconds=$((SECONDS - started))
export CONTAINERS_STORAGE_CONF="$work/image/storage.conf" CONTAINERS_CONF="$work/image/containers.conf"

# The tags, and what the image says about itself.
read -r -a tags <<<"$("$repo/deploy/image/build.sh" --tags "$reliant")"
for tag in "${tags[@]}"; do
  podman image exists "$tag" || fail "the build made no $tag"
done
image=${tags[0]}
version=$("$reliant" version | awk '{print $2}')
label='{{index .Config.Labels "org.opencontainers.image.version"}}'
config=$(podman image inspect --format \
  "{{.Config.User}}|{{json .Config.Entrypoint}}|{{.Config.WorkingDir}}|$label" "$image")
[ "$config" = "reliant|[\"/usr/local/bin/reliant\"]|/var/lib/reliant|$version" ] ||
  fail "image config (user|entrypoint|workdir|version label) is '$config'"
podman image inspect --format '{{json .Config.Env}}' "$image" | grep -q '"DATA_DIR=/var/lib/reliant"' ||
  fail "the image does not set DATA_DIR=/var/lib/reliant"

root=$(podman image mount "$image")
mounted=$image
uid=$(awk -F: '$1 == "reliant" {print $3}' "$root/etc/passwd")
[[ "$uid" =~ ^[1-9][0-9]*$ ]] || fail "the image's /etc/passwd has no non-root reliant user"
[ "$(stat -c %u "$root/var/lib/reliant")" = "$uid" ] || fail "/var/lib/reliant is not the reliant user's"
[ "$(stat -c %a "$root/tmp")" = 1777 ] || fail "/tmp is not writable by all (mode $(stat -c %a "$root/tmp"))"
[ -s "$root/etc/ssl/certs/ca-certificates.crt" ] || fail "no CA bundle at /etc/ssl/certs/ca-certificates.crt"
[ -s "$root$(readlink "$root/usr/lib/ssl/cert.pem")" ] ||
  fail "OpenSSL's default CA file /usr/lib/ssl/cert.pem leads nowhere"
if readelf -S "$root/usr/local/bin/reliant" | grep -q '\.debug_info'; then
  fail "the image's binary carries its debug info (rootfs.sh strips it)"
fi

mkdir -m 0700 "$work/data"
chown "$uid:$uid" "$work/data"
chroot=$(command -v chroot)
# Runs COMMAND... in the image as its user with an empty environment, as a runtime would (minus
# the isolation): proc, the host's /dev, a fresh /tmp and $work/data as the data volume.
# It execs, so that a background one's $! is the server itself: call it in $(…) or with &.
in_image() {
  # shellcheck disable=SC2016  # the script is the inner shell's, with its own arguments
  exec unshare --mount --propagation private bash -c '
    root=$1 data=$2 uid=$3 chroot=$4
    shift 4
    mount -t proc proc "$root/proc" && mount --bind /dev "$root/dev" &&
      mount -t tmpfs -o mode=1777 tmpfs "$root/tmp" && mount --bind "$data" "$root/var/lib/reliant" &&
      exec env -i "$chroot" --userspec="$uid:$uid" "$root" "$@"' \
    in_image "$root" "$work/data" "$uid" "$chroot" "$@"
}

missing=$(in_image /lib64/ld-linux-x86-64.so.2 --list /usr/local/bin/reliant 2>&1 | grep 'not found' || true)
[ -z "$missing" ] || fail "libraries missing from the image: $missing"
inside=$(in_image /usr/local/bin/reliant version 2>&1) || fail "reliant version fails in the image: $inside"
[ "$inside" = "$("$reliant" version)" ] || fail "the image's reliant version says '$inside'"
for role in "server api" "server worker" "server gateway" "server controlplane" "db migrate"; do
  # shellcheck disable=SC2086  # the role is two words
  out=$(in_image /usr/local/bin/reliant $role --help 2>&1) ||
    fail "reliant $role --help fails in the image: $out"
done

# The web app, where the binary looks for it (beside itself: ../share/reliant/web).
port=$(free_port_block 2)
in_image /usr/local/bin/reliant monolith --data-dir /var/lib/reliant --api-port "$port" \
  --grpc-port $((port + 1)) --daemon-port 0 --disable-tls --llm-provider scripted \
  --no-tool-cgroups --working-dir /tmp >"$work/monolith.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 "$pid" 2>/dev/null || fail "the monolith exited in the image"
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/health" >/dev/null || fail "the monolith did not answer /health within 10 s"
code=$(curl -s -o "$work/index.html" -w '%{http_code}' "http://127.0.0.1:$port/") ||
  fail "nothing answers on :$port"
[ "$code" = 200 ] || fail "GET / answered $code"
cmp -s "$work/index.html" "$repo/web/dist/index.html" ||
  fail "GET / is not web/dist/index.html: $(head -c 300 "$work/index.html")"
js=$(grep -o 'src="/assets/[^"]*\.js"' "$work/index.html" | head -n 1 | cut -d'"' -f2)
[ -n "$js" ] || fail "index.html names no JS asset"
got=$(curl -s -o "$work/asset.js" -w '%{http_code} %{content_type}' "http://127.0.0.1:$port$js")
[ "$got" = "200 text/javascript; charset=utf-8" ] || fail "GET $js answered '$got'"
cmp -s "$work/asset.js" "$repo/web/dist$js" || fail "GET $js is not web/dist$js"
kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "the monolith did not stop within 10 s of SIGTERM"
wait "$pid" || fail "the monolith exited with status $? on SIGTERM"
pid=""

size=$(podman image inspect --format '{{.Size}}' "$image")
podman image unmount "$image" >/dev/null
mounted=""
echo "PASS: ${tags[*]} ($((size / 1000000)) MB) built in ${build_seconds} s; in it, reliant runs every" \
  "server role's --help with an empty environment and serves the web app ($js)"
