#!/usr/bin/env bash
# Puts Debian's nats-server packages into .tools/nats-server/<version>/nats-server, without installing
# them into the system: Debian 13 "trixie"'s 2.10.27, the server the NATS engine and its tests run on,
# and Debian 12 "bookworm"'s 2.9.10, which a test starts to check that the engine refuses it. Both run
# on Debian 12 (the trixie package needs only libc6 >= 2.34). npm run start:nats and the tests find the
# newest one here by themselves (launcher/src/natsServer.ts).
#
#   bash scripts/get-nats-server.sh        (Debian or Ubuntu with Debian's archive keys; root not needed)
#
# The packages come from the Debian mirror this machine's apt already uses (DEBIAN_MIRROR overrides it),
# through an apt state of its own under .tools/apt, so the system's sources and packages stay untouched.
set -euo pipefail
cd "$(dirname "$0")/.."

# suite and the upstream version wanted from it
WANTED=("trixie 2.10.27" "bookworm 2.9.10")
TOOLS=$PWD/.tools
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

say() { printf '==> %s\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || fail "apt-get and dpkg-deb are needed (Debian or Ubuntu); elsewhere install nats-server 2.10 or later yourself and set NATS_SERVER"
[[ -r "$KEYRING" ]] || fail "$KEYRING is missing: apt-get install debian-archive-keyring"

MIRROR=${DEBIAN_MIRROR:-$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-$(awk '/^deb / && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)}
[[ -n "$MIRROR" ]] || fail "no Debian mirror found in apt's sources; set DEBIAN_MIRROR"

missing=()
for wanted in "${WANTED[@]}"; do
  read -r suite version <<<"$wanted"
  [[ -x "$TOOLS/nats-server/$version/nats-server" ]] || missing+=("$wanted")
done
if (( ${#missing[@]} == 0 )); then
  say "nats-server ${WANTED[*]#* } already in $TOOLS/nats-server"
  exit 0
fi

apt_dir=$TOOLS/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
: >"$apt_dir/sources.list"
for wanted in "${missing[@]}"; do
  read -r suite _ <<<"$wanted"
  echo "deb [signed-by=$KEYRING] $MIRROR $suite main" >>"$apt_dir/sources.list"
done
apt_options=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Dir::State::status=/dev/null
  -o APT::Sandbox::User=root -o Debug::NoLocking=1
)
say "reading the package lists of ${missing[*]% *} from $MIRROR"
apt-get "${apt_options[@]}" -qq update

for wanted in "${missing[@]}"; do
  read -r suite version <<<"$wanted"
  # Debian's full version of that upstream release in that suite (e.g. 2.10.27-1+b2).
  full=$(apt-cache "${apt_options[@]}" madison nats-server | awk -v suite="$suite" -v version="$version" '$0 ~ " " suite "/" && index($3, version "-") == 1 { print $3; exit }')
  [[ -n "$full" ]] || fail "Debian $suite has no nats-server $version any more ($(apt-cache "${apt_options[@]}" madison nats-server | awk '{ print $3 }' | xargs)); update WANTED in $0"
  say "nats-server $full ($suite)"
  (cd "$apt_dir/debs" && apt-get "${apt_options[@]}" -qq download "nats-server=$full")
  unpacked=$(mktemp -d)
  dpkg-deb -x "$apt_dir/debs/nats-server_${full//:/%3a}_$(dpkg --print-architecture).deb" "$unpacked"
  mkdir -p "$TOOLS/nats-server/$version"
  install -m 0755 "$unpacked/usr/sbin/nats-server" "$TOOLS/nats-server/$version/nats-server"
  rm -rf "$unpacked"
  say "$("$TOOLS/nats-server/$version/nats-server" --version) in $TOOLS/nats-server/$version"
done
rm -rf "$apt_dir"
