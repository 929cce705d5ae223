#!/usr/bin/env bash
# LOCAL STAND-INS for the official node:24-trixie-slim, debian:trixie-slim and nats images, for machines
# that cannot pull from any container registry (like this project's CI). Anywhere a registry is reachable,
# use the official images: the Dockerfiles and manifests name them and docker or podman pull them as usual.
#
# The first two are what the official images are made of: a minimal Debian 13 "trixie" (debootstrap
# --variant=minbase, from Debian's package mirror) with apt pointed at that mirror and the CA bundle, so apt
# (and npm) inside a build reach their servers. That rootfs alone is debian:trixie-slim; with this
# machine's Node.js 24 and npm and a `node` user with uid 1000 it is node:24-trixie-slim (the base of the
# services' images). The third stands in for the official NATS image infra/scale runs: Debian 13's
# nats-server package on debian:trixie-slim (nats-stand-in.Dockerfile). Each is tagged with the exact name
# the Dockerfiles and manifests use, so `podman build --pull=never` and `podman kube play` find it.
#
#   scripts/containers/make-base-image.sh        (as root; needs debootstrap and podman)
#   FORCE=1 scripts/containers/make-base-image.sh    (makes all three again, even when present)
set -euo pipefail

cd "$(dirname "$0")/../.."
SUITE=trixie
NODE_IMAGE=docker.io/library/node:24-$SUITE-slim
DEBIAN_IMAGE=docker.io/library/debian:$SUITE-slim
# The official NATS image, as infra/scale/nats.yaml names it.
NATS_IMAGE=$(awk '$1 == "image:" && $2 ~ /\/nats:/ { print $2; exit }' infra/scale/nats.yaml)
[[ -n "$NATS_IMAGE" ]] || { echo "error: infra/scale/nats.yaml names no nats image" >&2; exit 1; }
# The Debian mirror this machine's apt already uses (override with DEBIAN_MIRROR).
MIRROR=${DEBIAN_MIRROR:-$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)}
[[ -n "$MIRROR" ]] || { echo "error: no Debian mirror found in apt's sources; set DEBIAN_MIRROR" >&2; exit 1; }
PODMAN=(podman --runtime runc)

say() { printf '==> %s\n' "$*"; }

# Only what is missing is made (the first two share one debootstrap; the third is built on the second).
wanted() { [[ "${FORCE:-}" == 1 ]] || ! "${PODMAN[@]}" image exists "$1"; }
make_node=false make_debian=false make_nats=false
wanted "$NODE_IMAGE" && make_node=true
wanted "$NATS_IMAGE" && make_nats=true
wanted "$DEBIAN_IMAGE" && make_debian=true

# The NATS stand-in, from the debian stand-in: Debian 13's nats-server package.
make_nats_stand_in() {
  say "stand-in for $NATS_IMAGE: Debian $SUITE's nats-server on $DEBIAN_IMAGE"
  "${PODMAN[@]}" build --pull=never --network host -f scripts/containers/nats-stand-in.Dockerfile -t "$NATS_IMAGE" scripts/containers >/dev/null
  say "done: $("${PODMAN[@]}" run --rm "$NATS_IMAGE" --version) as $NATS_IMAGE"
}

if [[ "$make_node" == false && "$make_debian" == false ]]; then
  [[ "$make_nats" == true ]] && make_nats_stand_in
  say "$NODE_IMAGE, $DEBIAN_IMAGE and $NATS_IMAGE are present (FORCE=1 to rebuild them)"
  exit 0
fi

if [[ "$make_node" == true ]]; then
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  [[ "$node_major" == 24 ]] || { echo "error: this machine's node is $node_major, the image needs 24 (.ci/run puts Node 24 first on PATH)" >&2; exit 1; }
fi

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT

say "Debian $SUITE (minbase) into $rootfs from $MIRROR"
debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >/dev/null

say "CA bundle, apt sources"
mkdir -p "$rootfs/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
echo "deb $MIRROR $SUITE main" > "$rootfs/etc/apt/sources.list"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*

# Imports the rootfs as it is now under a name, with the image settings given as --change options.
import_as() {
  local image=$1
  shift
  say "importing as $image"
  tar -C "$rootfs" -c . | "${PODMAN[@]}" import "$@" - "$image" >/dev/null
  say "done: $("${PODMAN[@]}" image inspect --format '{{.Size}}' "$image" | numfmt --to=iec) $image"
}

# The plain rootfs, before Node is added: what the official debian:trixie-slim is.
if [[ "$make_debian" == true ]]; then
  import_as "$DEBIAN_IMAGE" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]'
fi
[[ "$make_nats" == true ]] && make_nats_stand_in

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
