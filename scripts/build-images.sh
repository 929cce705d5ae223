#!/usr/bin/env bash
# Builds every service's image with the tag the manifests in infra/k8s use (blog/<service>:<version>),
# then makes the images visible to the local cluster kubectl points at, so that
# `kubectl apply -f infra/k8s` never needs a registry.
#
#   scripts/build-images.sh              build with docker (or podman), load into kind/minikube if in use
#   scripts/build-images.sh --dry-run    print the commands without running them
#   CONTAINER_ENGINE=podman scripts/build-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SERVICES=(event-bus posts comments moderation query client)
VERSION=$(node -p "require('./package.json').version")
DRY_RUN=false
[[ "${1:-}" == "--dry-run" ]] && DRY_RUN=true

say() { printf '\n==> %s\n' "$*"; }
run() {
  printf '    $ %s\n' "$*"
  if [[ "$DRY_RUN" == false ]]; then "$@"; fi
}

engine=${CONTAINER_ENGINE:-}
if [[ -z "$engine" ]]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    engine=docker
  elif command -v podman >/dev/null 2>&1; then
    engine=podman
  elif [[ "$DRY_RUN" == true ]]; then
    engine=docker
  else
    echo "error: no container engine found: start Docker (Docker Desktop, or the docker daemon) or install podman" >&2
    exit 1
  fi
fi
# podman would name the image localhost/blog/...; the cluster looks for docker.io/blog/..., so say it in full.
prefix=""
[[ "$engine" == podman ]] && prefix="docker.io/"

context=$(kubectl config current-context 2>/dev/null || true)
say "Building ${#SERVICES[@]} images tagged ${VERSION} with ${engine} (kubectl context: ${context:-none})"
count=0
for service in "${SERVICES[@]}"; do
  count=$((count + 1))
  say "[${count}/${#SERVICES[@]}] ${prefix}blog/${service}:${VERSION} from ${service}/Dockerfile"
  run "$engine" build ${BUILD_FLAGS:-} -f "${service}/Dockerfile" -t "${prefix}blog/${service}:${VERSION}" .
done

# Puts one image where the cluster's container runtime will find it.
load_into() {
  local how=$1 image=$2
  if [[ "$engine" == podman ]]; then
    local archive
    archive=$(mktemp --suffix=.tar)
    run podman save -o "$archive" "$image"
    if [[ "$how" == kind ]]; then run kind load image-archive "$archive" --name "$cluster"; else run minikube image load "$archive"; fi
    rm -f "$archive"
  elif [[ "$how" == kind ]]; then
    run kind load docker-image "$image" --name "$cluster"
  else
    run minikube image load "$image"
  fi
}

case "$context" in
  kind-*)
    cluster=${context#kind-}
    say "kind keeps its own image store: loading the images into cluster '${cluster}'"
    for service in "${SERVICES[@]}"; do load_into kind "${prefix}blog/${service}:${VERSION}"; done
    ;;
  minikube)
    say "minikube keeps its own image store: loading the images into it"
    for service in "${SERVICES[@]}"; do load_into minikube "${prefix}blog/${service}:${VERSION}"; done
    ;;
  docker-desktop)
    say "Docker Desktop's cluster uses the images docker just built: nothing to load"
    ;;
  *)
    say "Not a kind, minikube or Docker Desktop context: make the images available to your cluster yourself"
    ;;
esac

say "Done. Next: kubectl apply -f infra/k8s   (then: npm run k8s:doctor if a pod does not start)"
