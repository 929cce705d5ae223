#!/usr/bin/env bash
# Builds every image with the tag the manifests use (blog/<name>:<version>): the six services, which
# infra/k8s and infra/scale both run, then makes the images visible to the local cluster kubectl points at,
# so that `kubectl apply -f infra/k8s` and `kubectl apply -k infra/scale` need no registry for them (the
# NATS servers of infra/scale run the official nats image, which the cluster pulls).
#
#   scripts/build-images.sh              build with docker (or podman), load into kind/minikube if in use
#   scripts/build-images.sh --dry-run    print the commands without running them
#   CONTAINER_ENGINE=podman scripts/build-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Each builds from <name>/Dockerfile with the repository root as its context.
IMAGES=(event-bus posts comments moderation query client)
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
say "Building ${#IMAGES[@]} images tagged ${VERSION} with ${engine} (kubectl context: ${context:-none})"
count=0
for name in "${IMAGES[@]}"; do
  count=$((count + 1))
  say "[${count}/${#IMAGES[@]}] ${prefix}blog/${name}:${VERSION} from ${name}/Dockerfile"
  run "$engine" build ${BUILD_FLAGS:-} -f "${name}/Dockerfile" -t "${prefix}blog/${name}:${VERSION}" .
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
    for name in "${IMAGES[@]}"; do load_into kind "${prefix}blog/${name}:${VERSION}"; done
    ;;
  minikube)
    say "minikube keeps its own image store: loading the images into it"
    for name in "${IMAGES[@]}"; do load_into minikube "${prefix}blog/${name}:${VERSION}"; done
    ;;
  docker-desktop)
    say "Docker Desktop's cluster uses the images docker just built: nothing to load"
    ;;
  *)
    say "Not a kind, minikube or Docker Desktop context: make the images available to your cluster yourself"
    ;;
esac

say "Done. Next: kubectl apply -f infra/k8s, or kubectl apply -k infra/scale for NATS   (then: npm run k8s:doctor if a pod does not start)"
