#!/usr/bin/env bash
# npm run test:containers: builds every service's image from its real Dockerfile and runs the manifests'
# containers with podman (test/containers). Needs root, podman, runc and debootstrap (.ci/run installs
# them with apt-get), and kubectl, which renders infra/scale (kubectl kustomize) as the other tests of the
# overlay do. Cleans up what it made, even when a test fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
for tool in podman runc debootstrap kubectl; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if (( ${#missing[@]} > 0 )); then
  message="container tests need: ${missing[*]} (as root: apt-get install -y podman runc debootstrap; and kubectl, for infra/scale)"
  if [[ -n "${CI:-}" ]]; then
    echo "FAIL: $message" >&2
    exit 1
  fi
  echo "" >&2
  echo "!!! SKIPPED the container tests: $message" >&2
  echo "" >&2
  exit 0
fi

export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/containers/containers.conf}
base=docker.io/library/node:24-trixie-slim
# The stand-ins for the NATS image infra/scale names and for its base, made by the same script.
debian_base=docker.io/library/debian:trixie-slim
nats_image=$(awk '$1 == "image:" && $2 ~ /\/nats:/ { print $2; exit }' infra/scale/nats.yaml)
made_base=false
if ! podman --runtime runc image exists "$base" || ! podman --runtime runc image exists "$debian_base" || ! podman --runtime runc image exists "$nats_image"; then
  started=$SECONDS
  bash scripts/containers/make-base-image.sh
  made_base=true
  # The test adds it to artifacts/containers-timings.json.
  export CONTAINER_BASE_IMAGE_SECONDS=$((SECONDS - started))
  echo "==> made the base image in ${CONTAINER_BASE_IMAGE_SECONDS} s"
fi
cleanup() {
  if [[ "$made_base" == true ]]; then podman --runtime runc rmi -f "$nats_image" "$base" "$debian_base" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

npx jest --config jest.containers.config.js --runInBand "$@"
