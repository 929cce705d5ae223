#!/usr/bin/env bash
# LOCAL STAND-INS for the official node:24-bookworm-slim and debian:bookworm-slim images, for machines that
# cannot pull from any container registry (like this project's CI). Anywhere a registry is reachable, use
# the official images: the Dockerfiles name them and docker or podman pull them as usual.
#
# They are what the official images are made of: a minimal Debian bookworm (debootstrap --variant=minbase,
# from Debian's package mirror) with apt pointed at that mirror and the CA bundle, so apt (and npm) inside a
# build reach their servers. That rootfs alone is debian:bookworm-slim (the base of nats/Dockerfile); with
# this machine's Node.js 24 and npm and a `node` user with uid 1000 it is node:24-bookworm-slim (the base
# of the services' images). Each is tagged with the exact name the Dockerfiles use, so
# `podman build --pull=never` finds it.
#
#   scripts/containers/make-base-image.sh        (as root; needs debootstrap and podman)
#   FORCE=1 scripts/containers/make-base-image.sh    (makes both again, even when present)
set -euo pipefail

NODE_IMAGE=docker.io/library/node:24-bookworm-slim
DEBIAN_IMAGE=docker.io/library/debian:bookworm-slim
# The Debian mirror this machine's apt already uses (override with DEBIAN_MIRROR).
MIRROR=${DEBIAN_MIRROR:-$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)}
[[ -n "$MIRROR" ]] || { echo "error: no Debian mirror found in apt's sources; set DEBIAN_MIRROR" >&2; exit 1; }
PODMAN=(podman --runtime runc)

say() { printf '==> %s\n' "$*"; }

# Only what is missing is made (both share one debootstrap).
wanted() { [[ "${FORCE:-}" == 1 ]] || ! "${PODMAN[@]}" image exists "$1"; }
make_node=false make_debian=false
wanted "$NODE_IMAGE" && make_node=true
wanted "$DEBIAN_IMAGE" && make_debian=true
if [[ "$make_node" == false && "$make_debian" == false ]]; then
  say "$NODE_IMAGE and $DEBIAN_IMAGE are already present (FORCE=1 to rebuild them)"
  exit 0
fi

if [[ "$make_node" == true ]]; then
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  [[ "$node_major" == 24 ]] || { echo "error: this machine's node is $node_major, the image needs 24 (.ci/run puts Node 24 first on PATH)" >&2; exit 1; }
fi

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT

say "Debian bookworm (minbase) into $rootfs from $MIRROR"
debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >/dev/null

say "CA bundle, apt sources"
mkdir -p "$rootfs/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
echo "deb $MIRROR bookworm main" > "$rootfs/etc/apt/sources.list"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*

# Imports the rootfs as it is now under a name, with the image settings given as --change options.
import_as() {
  local image=$1
  shift
  say "importing as $image"
  tar -C "$rootfs" -c . | "${PODMAN[@]}" import "$@" - "$image" >/dev/null
  say "done: $("${PODMAN[@]}" image inspect --format '{{.Size}}' "$image" | numfmt --to=iec) $image"
}

# The plain rootfs, before Node is added: what the official debian:bookworm-slim is.
if [[ "$make_debian" == true ]]; then
  import_as "$DEBIAN_IMAGE" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]'
fi

[[ "$make_node" == true ]] || exit 0

say "Node.js $(node --version) and npm $(npm --version) from this machine"
install -m 0755 "$(command -v node)" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
# npm's own folder, wherever this machine keeps it (the Node package .ci/run installs has no npm of its own).
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[[ -f "$npm_dir/package.json" ]] || { echo "error: cannot find npm's folder (looked at $npm_dir)" >&2; exit 1; }
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
# Node's C headers, as the official image has them, so node-gyp can build a native module offline.
node_headers=$(dirname "$(command -v node)")/../include/node
[[ -f "$node_headers/node.h" ]] || node_headers=/usr/include/node
mkdir -p "$rootfs/usr/local/include"
cp -a "$node_headers" "$rootfs/usr/local/include/node"

say "user node (1000:1000)"
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

import_as "$NODE_IMAGE" \
  --change 'ENV NODE_VERSION='"$(node -p 'process.versions.node')" \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV npm_config_nodedir=/usr/local' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]'
