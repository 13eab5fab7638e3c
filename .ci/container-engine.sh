#!/usr/bin/env bash
# The container engine for the tests marked `container`: Debian's Docker and compose,
# dockerd started in the background, and local stand-ins for the base images that the
# Dockerfile and docker-compose.yml name, since image registries are out of reach here.
#
# The stand-ins are built on a Debian bookworm root filesystem made by debootstrap
# (cached under /var/cache, so a rerun takes seconds) and trust the host's CA bundle,
# so that pip inside a build reaches the package index through a TLS-intercepting proxy.
# Safe to rerun. Where no engine can run, it says so and exits 0: the container tests
# then skip.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=/var/cache/music-emotion-ci
ROOTFS_TAR=$CACHE/bookworm-minbase.tar
BASE=local/bookworm-minbase
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
# The tags exactly as the project names them (the Dockerfile's stages and compose's nginx).
PYTHON_TAG=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' Dockerfile | sort -u)
NGINX_TAG=$(sed -n 's/^ *image: *\(nginxinc\/[^ ]*\).*/\1/p' docker-compose.yml)

give_up() {
    echo "container-engine: $1; the container tests will skip" >&2
    exit 0
}

needed=()
command -v dockerd >/dev/null || needed+=(docker.io)
command -v docker-compose >/dev/null || needed+=(docker-compose)
command -v debootstrap >/dev/null || needed+=(debootstrap)
if ((${#needed[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${needed[@]}" \
        >/dev/null || give_up "could not install ${needed[*]}"
fi

if ! docker info >/dev/null 2>&1; then
    mkdir -p /var/log
    nohup dockerd >/var/log/dockerd.log 2>&1 &
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    docker info >/dev/null 2>&1 || give_up "dockerd did not start (see /var/log/dockerd.log)"
fi

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    if [[ ! -s $ROOTFS_TAR ]]; then
        mkdir -p "$CACHE"
        rootfs=$(mktemp -d)
        debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null \
            || give_up "debootstrap failed"
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar -C "$rootfs" -cf "$ROOTFS_TAR.part" . && mv "$ROOTFS_TAR.part" "$ROOTFS_TAR"
        rm -rf "$rootfs"
    fi
    docker import "$ROOTFS_TAR" "$BASE" >/dev/null || give_up "could not import the root filesystem"
fi

# A build context holding only the host's CA bundle.
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp "$CA_BUNDLE" "$context/ca-certificates.crt"

build_stand_in() { # tag, then the Dockerfile on stdin
    docker image inspect "$1" >/dev/null 2>&1 && return
    docker build -q -t "$1" -f - "$context" >/dev/null || give_up "could not build $1"
    echo "container-engine: built the stand-in $1"
}

# Like python:3.11-slim: Debian's Python 3.11 as `python`, pip allowed to install into
# the system, venv available, HTTPS through the host's CA bundle.
for tag in $PYTHON_TAG; do
    build_stand_in "$tag" <<EOF
FROM $BASE
# Added to the system bundle by update-ca-certificates (apt's own run would overwrite a
# bundle copied straight to /etc/ssl/certs).
COPY ca-certificates.crt /usr/local/share/ca-certificates/host-bundle.crt
RUN apt-get update -qq \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\
       ca-certificates python3 python3-pip python3-venv python-is-python3 \\
    && rm -rf /var/lib/apt/lists/* /usr/lib/python3*/EXTERNALLY-MANAGED \\
    && update-ca-certificates >/dev/null
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
EOF
done

# Like nginxinc/nginx-unprivileged: nginx as uid 101 on port 8080, wget for health checks.
build_stand_in "$NGINX_TAG" <<EOF
FROM $BASE
RUN apt-get update -qq \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\
       nginx-light wget \\
    && rm -rf /var/lib/apt/lists/* \\
    && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
USER 101
EXPOSE 8080
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
EOF
echo "container-engine: docker $(docker version -f '{{.Server.Version}}'), images ready"
