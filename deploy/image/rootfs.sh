#!/usr/bin/env bash
# Assembles the root file system of Reliant's server image (api, worker, gateway, control
# plane) from a built `reliant` binary and the web app's build: the binary, every shared
# library it loads, and the few files it reads at run time. No shell, no package manager: the
# server roles start no processes (only the monolith, the daemon and the control plane's
# *local* daemons run tools, and they need the host's shell, git and the rest; the control
# plane's Kubernetes daemons run in their own image).
#   deploy/image/rootfs.sh RELIANT_BINARY WEB_DIST ROOTFS
# ROOTFS must not exist yet (or be empty). deploy/image/build.sh calls this, then builds the
# image; compose/Dockerfile calls it in its build stage.
set -euo pipefail
binary=$1 web=$2 root=$3
uid=10001  # the `reliant` user; fixed, so a volume keeps its owner from one image to the next

die() { echo "rootfs: $*" >&2; exit 1; }
[ -x "$binary" ] || die "$binary is not an executable"
[ -f "$web/index.html" ] || die "$web holds no index.html (tools/setup.sh builds web/dist)"
[ -f /etc/ssl/certs/ca-certificates.crt ] || die "no CA bundle here (apt-get install ca-certificates)"
mkdir -p "$root"
[ -z "$(ls -A "$root")" ] || die "$root is not empty"

install -d -m 0755 "$root"/{etc,usr/local/bin,usr/local/share/reliant,usr/lib/ssl,etc/ssl/certs,var/lib}
# Mount points a container runtime fills (and the image test's chroot mounts on).
install -d -m 0555 "$root/proc" "$root/sys"
install -d -m 0755 "$root/dev"
install -d -m 1777 "$root/tmp"
# The data directory (DATA_DIR), private as the server wants it (it warns about a wider mode).
# build.sh gives it to the reliant user when it packs the layer.
install -d -m 0700 "$root/var/lib/reliant"

# The binary without its DWARF (seven eighths of a RelWithDebInfo build); the symbol table
# stays, so a stack trace still names functions. The build tree keeps the full binary.
objcopy --strip-debug "$binary" "$root/usr/local/bin/reliant"
chmod 0755 "$root/usr/local/bin/reliant"

# Every library of the closure, at the path the loader found it (ldd lists the whole closure,
# the loader included), so the image's loader finds them without an ld.so.cache: its default
# search path holds /lib/x86_64-linux-gnu. Symbolic links are followed: the soname is the file.
# Nothing is loaded later with dlopen on the server roles' paths (LD_DEBUG=files shows none):
# NSS "files" and "dns" are built into Debian 12's glibc, and OpenSSL's default provider is in
# libcrypto.
ldd_out=$(ldd "$binary")
if grep -q 'not found' <<<"$ldd_out"; then
  die "libraries missing on this machine: $(grep 'not found' <<<"$ldd_out")"
fi
while read -r lib; do
  install -d -m 0755 "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
  chmod 0755 "$root$lib"
done < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$ldd_out" | sort -u)

# The web app, where the binary looks for it: ../share/reliant/web from its own directory.
cp -R "$web" "$root/usr/local/share/reliant/web"
chmod -R u=rwX,go=rX "$root/usr/local/share/reliant/web"

# CA roots for outgoing TLS (the model providers, the Kubernetes API): gRPC reads the bundle at
# its Debian path, OpenSSL's default verify paths (OPENSSLDIR=/usr/lib/ssl) reach it by links.
install -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
ln -s /etc/ssl/certs/ca-certificates.crt "$root/usr/lib/ssl/cert.pem"
ln -s /etc/ssl/certs "$root/usr/lib/ssl/certs"

# Users and name lookup: the image runs as `reliant`; names resolve from files, then DNS.
printf '%s\n' 'root:x:0:0:root:/root:/nonexistent' \
  "reliant:x:$uid:$uid:Reliant:/var/lib/reliant:/nonexistent" \
  'nobody:x:65534:65534:nobody:/nonexistent:/nonexistent' >"$root/etc/passwd"
printf '%s\n' 'root:x:0:' "reliant:x:$uid:" 'nogroup:x:65534:' >"$root/etc/group"
printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$root/etc/nsswitch.conf"
chmod 0644 "$root"/etc/{passwd,group,nsswitch.conf}
# No zoneinfo: the server roles keep time in UTC (only `reliant cel eval` on a workstation reads
# /usr/share/zoneinfo), and without /etc/localtime the log lines are UTC too.
