"""``/v1/audio-features``: Spotify's AudioFeatures object of uploaded songs.

The same analysis as ``/v1/emotion`` (limits, admission, metrics and problems included);
the object is made from it by :func:`app.audio_features.audio_features`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, Security, UploadFile

from app.api.deps import AudioFeaturesDep, PoolDep, SettingsDep, api_key_header
from app.api.problems import problem_responses
from app.api.schemas import (
    AUDIO_FEATURES_BATCH_EXAMPLE,
    AUDIO_FEATURES_EXAMPLE,
    AudioFeaturesBatch,
)
from app.api.uploads import analyse_batch, analyse_one
from app.audio_features import AudioFeatures
from app.result import reported_audio_features

router = APIRouter(
    prefix="/v1/audio-features", tags=["audio features"], dependencies=[Security(api_key_header)]
)

PROBLEMS = problem_responses(400, 401, 413, 415, 422, 500, 501, 503, 504)


def _responses(example: dict) -> dict[int | str, dict]:
    """The OpenAPI answers: ``example`` for 200, and the problems."""
    return {200: {"content": {"application/json": {"example": example}}}, **PROBLEMS}


@router.post("", response_model=AudioFeatures, responses=_responses(AUDIO_FEATURES_EXAMPLE))
async def song_audio_features(
    request: Request,
    calibration: AudioFeaturesDep,  # first: a model without audio features answers at once
    pool: PoolDep,
    settings: SettingsDep,
    file: Annotated[
        UploadFile, File(description="An audio file: mp3, wav, flac, ogg/opus or m4a/aac.")
    ],
) -> AudioFeatures:
    """Spotify's AudioFeatures object of one song, made from its audio.

    The fields, types and ranges of Spotify's `audio-features` answer; `id`, `uri`,
    `track_href` and `analysis_url` are left out (an upload is no Spotify track).
    Example: `curl -F file=@song.mp3 http://127.0.0.1:8000/v1/audio-features`.
    """
    return await analyse_one(
        request, pool, settings, file, lambda emotion: reported_audio_features(emotion, calibration)
    )


@router.post(
    "/batch",
    response_model=AudioFeaturesBatch,
    responses=_responses(AUDIO_FEATURES_BATCH_EXAMPLE),
)
async def songs_audio_features(
    request: Request,
    calibration: AudioFeaturesDep,  # first: a model without audio features answers at once
    pool: PoolDep,
    settings: SettingsDep,
    files: Annotated[list[UploadFile], File(description="Audio files, in any supported format.")],
) -> AudioFeaturesBatch:
    """Several songs' AudioFeatures objects, in the order of the files; a file that could
    not be analysed gets its own problem object in its place (where Spotify put `null`).

    The limits of `/v1/emotion/batch` apply: at most `MUSIC_EMOTION_MAX_BATCH_FILES` files
    and `MUSIC_EMOTION_MAX_BATCH_BYTES` bytes in all (else 413), each file at most
    `MUSIC_EMOTION_MAX_UPLOAD_BYTES` (else that file's own 413).
    """
    answers = await analyse_batch(
        request,
        pool,
        settings,
        files,
        lambda emotion: reported_audio_features(emotion, calibration),
    )
    return AudioFeaturesBatch(audio_features=answers)
