# LOCAL STAND-IN for the official NATS image that infra/scale/nats.yaml names, for machines that cannot
# pull from any container registry (like this project's CI); make-base-image.sh builds it under that
# image's name. It is Debian 13's nats-server package (2.10.27, the release the engine is tested on), not
# the release the tag names: the container tests print which server really ran. Started as the official
# image starts: nats-server, with the pod's arguments (--config <file>).
FROM docker.io/library/debian:trixie-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends nats-server \
 && rm -rf /var/lib/apt/lists/*
# The store's mount point, writable by any uid: podman fills a new volume from it, as fsGroup makes a
# PersistentVolumeClaim writable for the pod's uid in Kubernetes.
RUN mkdir -p /data && chmod 1777 /data
ENTRYPOINT ["nats-server"]
