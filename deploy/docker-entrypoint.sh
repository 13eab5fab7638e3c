#!/bin/sh
# Start the service with the numba cache compiled into the image at build time.
#
# numba ignores a cache directory it cannot write and compiles every kernel again
# (about a minute on two cores), and the container's root filesystem is read-only:
# copy the baked cache to NUMBA_CACHE_DIR on the tmpfs first. If the copy fails, the
# service still starts, just slower.
if [ -d /srv/numba-cache ] && [ "$NUMBA_CACHE_DIR" != /srv/numba-cache ]; then
    mkdir -p "$NUMBA_CACHE_DIR" && cp -R /srv/numba-cache/. "$NUMBA_CACHE_DIR"/ \
        || echo "docker-entrypoint: could not copy the numba cache; kernels compile at start" >&2
fi
exec "$@"
