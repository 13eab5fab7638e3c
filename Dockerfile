# The inference service: no training dependencies, the shipped model baked in, a non-root user.
# Runs on a read-only root filesystem: it writes only to /tmp (spooled uploads, HOME),
# which docker-compose.yml mounts as a tmpfs, and to the numba cache, compiled here at
# build time and mounted by docker-compose.yml as a volume (which starts as this copy).
# Without a writable cache, numba falls back to HOME and compiles at start (~30 s).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/tmp \
    NUMBA_CACHE_DIR=/srv/numba-cache \
    MUSIC_EMOTION_HOST=0.0.0.0 \
    MUSIC_EMOTION_PORT=8000 \
    MUSIC_EMOTION_MODEL_PATH=/srv/model_store/music-emotion-0.1.0

WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app ./app
COPY training ./training
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home music \
    && mkdir /srv/numba-cache \
    && chown 10001 /srv/numba-cache
COPY model_store ./model_store

USER 10001
# Load the model and analyse a synthetic song once, so every numba kernel is compiled;
# -I: the installed package, as the service runs it, not the sources in /srv/app.
RUN python -I -c "from app.analysis import Analyzer; Analyzer('$MUSIC_EMOTION_MODEL_PATH')"
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/v2/health/ready', timeout=4).status != 200)"]
CMD ["music-emotion", "serve"]
