# The inference service: no PyTorch, the shipped model baked in, a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NUMBA_CACHE_DIR=/tmp/numba \
    MUSIC_EMOTION_HOST=0.0.0.0 \
    MUSIC_EMOTION_PORT=8000 \
    MUSIC_EMOTION_MODEL_PATH=/srv/model_store/music-emotion-0.1.0

WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app ./app
COPY training ./training
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home music
COPY model_store ./model_store

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/v2/health/ready', timeout=4).status != 200)"]
CMD ["music-emotion", "serve"]
