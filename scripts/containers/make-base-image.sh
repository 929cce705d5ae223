#!/usr/bin/env bash
# A LOCAL STAND-IN for the official node:20-bookworm-slim image, for machines that cannot pull from any
# container registry (like this project's CI). Anywhere a registry is reachable, use the official image:
# the Dockerfiles name it and docker or podman pull it as usual.
#
# It is what the official image is made of: a minimal Debian bookworm (debootstrap --variant=minbase,
# from Debian's package mirror), this machine's Node.js 20 and npm, a `node` user with uid 1000, and the
# CA bundle so npm inside a build reaches the registry. It is tagged with the exact name the Dockerfiles
# use, so `podman build --pull=never` finds it.
#
#   scripts/containers/make-base-image.sh        (as root; needs debootstrap and podman)
set -euo pipefail

IMAGE=docker.io/library/node:20-bookworm-slim
# The Debian mirror this machine's apt already uses (override with DEBIAN_MIRROR).
MIRROR=${DEBIAN_MIRROR:-$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)}
[[ -n "$MIRROR" ]] || { echo "error: no Debian mirror found in apt's sources; set DEBIAN_MIRROR" >&2; exit 1; }
PODMAN=(podman --runtime runc)

say() { printf '==> %s\n' "$*"; }

if "${PODMAN[@]}" image exists "$IMAGE" && [[ "${FORCE:-}" != 1 ]]; then
  say "$IMAGE is already present (FORCE=1 to rebuild it)"
  exit 0
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
[[ "$node_major" == 20 ]] || { echo "error: this machine's node is $node_major, the image needs 20" >&2; exit 1; }

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT

say "Debian bookworm (minbase) into $rootfs from $MIRROR"
debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >/dev/null

say "Node.js $(node --version) and npm $(npm --version) from this machine"
install -m 0755 "$(command -v node)" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$(npm root -g)/npm" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
# Node's C headers, as the official image has them, so node-gyp can build a native module offline.
node_headers=$(dirname "$(command -v node)")/../include/node
[[ -f "$node_headers/node.h" ]] || node_headers=/usr/include/node
mkdir -p "$rootfs/usr/local/include"
cp -a "$node_headers" "$rootfs/usr/local/include/node"

say "user node (1000:1000), CA bundle, apt sources"
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
mkdir -p "$rootfs/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
echo "deb $MIRROR bookworm main" > "$rootfs/etc/apt/sources.list"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*

say "importing as $IMAGE"
tar -C "$rootfs" -c . | "${PODMAN[@]}" import \
  --change 'ENV NODE_VERSION='"$(node -p 'process.versions.node')" \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV npm_config_nodedir=/usr/local' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  - "$IMAGE" >/dev/null
say "done: $("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=iec) $IMAGE"
