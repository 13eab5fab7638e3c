"""``/v1/emotion``: the emotion of an uploaded song."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from app.api.deps import AnalyzerDep, SettingsDep, check_api_key
from app.api.problems import Problem
from app.api.schemas import EmotionResult, ModelInfo
from app.errors import InputTooLargeError

router = APIRouter(prefix="/v1/emotion", tags=["emotion"], dependencies=[Depends(check_api_key)])

PROBLEMS = {
    status: {"model": Problem, "content": {"application/problem+json": {}}, "description": text}
    for status, text in {
        400: "The upload is empty.",
        401: "The API key is missing or wrong.",
        413: "The upload is larger than the limit.",
        415: "The upload is not audio in a supported format.",
        422: "The request is malformed or the audio is too short.",
        503: "The model is still loading.",
    }.items()
}


@router.post("", response_model=EmotionResult, response_model_exclude_none=True, responses=PROBLEMS)
async def predict_emotion(
    analyzer: AnalyzerDep,
    settings: SettingsDep,
    file: Annotated[
        UploadFile, File(description="An audio file: mp3, wav, flac, ogg/opus or m4a/aac.")
    ],
    features: Annotated[bool, Query(description="Add the features behind the result.")] = False,
    timeline: Annotated[bool, Query(description="Add the emotion of each 20-s window.")] = False,
) -> EmotionResult:
    """Valence, arousal and quadrant of one song, averaged over its 20-s windows."""
    if file.size is not None and file.size > settings.max_upload_bytes:
        raise InputTooLargeError(f"the file exceeds {settings.max_upload_bytes} bytes")
    emotion = await run_in_threadpool(analyzer, file.file)
    model = ModelInfo(name=analyzer.model.name, version=analyzer.model.version)
    return EmotionResult.of(emotion, model, features=features, timeline=timeline)
