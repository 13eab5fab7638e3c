# The inference service: no training code or dependencies, the shipped model inside the
# installed package, a non-root user, a read-only root filesystem (it writes only to the
# tmpfs at /tmp).
#
# The builder stage installs the package (setup.py puts model_store/ inside it) and its
# dependencies into a virtual environment; the final stage copies only that
# environment, so no compiler, pip cache or build tool ships. The numba kernels are compiled at build time into
# /srv/numba-cache, which the entrypoint copies to the tmpfs at start
# (deploy/docker-entrypoint.sh): a fresh container is ready in seconds.
FROM python:3.11-slim AS builder

# Extras to install beside the service, e.g. `--build-arg EXTRAS=catalogue` for an image
# that serves catalogue search (MUSIC_EMOTION_CATALOGUE); none by default.
ARG EXTRAS=""
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY app ./app
COPY model_store ./model_store
# Without training/, only the service's package is installed (its console script is
# dropped too); pip, setuptools and the dependencies' own test suites are not shipped.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install ".${EXTRAS:+[$EXTRAS]}" \
    && /opt/venv/bin/pip uninstall --yes pip setuptools \
    && rm /opt/venv/bin/music-emotion-train \
    && find /opt/venv -depth -type d -name tests -path '*/site-packages/*' -exec rm -rf {} +

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    HOME=/tmp \
    NUMBA_CACHE_DIR=/tmp/numba-cache \
    MUSIC_EMOTION_HOST=0.0.0.0

RUN useradd --system --uid 10001 --no-create-home music \
    && mkdir /srv/numba-cache \
    && chown 10001 /srv/numba-cache
COPY --from=builder /opt/venv /opt/venv
COPY deploy/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /srv

USER 10001
# Load the model and analyse a synthetic song once, so every numba kernel is compiled
# into the image's cache.
RUN NUMBA_CACHE_DIR=/srv/numba-cache python -c \
    "from app.analysis import Analyzer; from app.settings import Settings; Analyzer(Settings().model_path)"
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/v2/health/ready', timeout=4).status != 200)"]
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["music-emotion", "serve"]
