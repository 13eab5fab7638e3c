"""``/v1/emotion``: the emotion of uploaded songs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile

from app.analysis import Analyzer, Emotion
from app.api.deps import AnalyzerDep, SettingsDep, check_api_key
from app.api.problems import Problem, problem_for
from app.api.schemas import BatchItem, BatchResult, EmotionResult, ModelInfo
from app.errors import InputTooLargeError, MusicEmotionError
from app.settings import Settings

router = APIRouter(prefix="/v1/emotion", tags=["emotion"], dependencies=[Depends(check_api_key)])

PROBLEMS = {
    status: {"model": Problem, "content": {"application/problem+json": {}}, "description": text}
    for status, text in {
        400: "The upload is empty.",
        401: "The API key is missing or wrong.",
        413: "The upload is larger than the limit.",
        415: "The upload is not audio in a supported format.",
        422: "The request is malformed, or the audio is too short or silent.",
        503: "The model is still loading, or the service is at capacity (see Retry-After).",
    }.items()
}

FeaturesQuery = Annotated[
    bool, Query(description="Add the features behind each result (tempo, loudness, timbre...).")
]
TimelineQuery = Annotated[bool, Query(description="Add the emotion of each 20-s window.")]


def _check_size(upload: UploadFile, settings: Settings) -> None:
    if upload.size is not None and upload.size > settings.max_upload_bytes:
        raise InputTooLargeError(f"the file exceeds {settings.max_upload_bytes} bytes")


def _result(emotion: Emotion, analyzer: Analyzer, features: bool, timeline: bool) -> EmotionResult:
    model = ModelInfo(name=analyzer.model.name, version=analyzer.model.version)
    return EmotionResult.of(emotion, model, features=features, timeline=timeline)


@router.post("", response_model=EmotionResult, response_model_exclude_none=True, responses=PROBLEMS)
async def predict_emotion(
    request: Request,
    analyzer: AnalyzerDep,
    settings: SettingsDep,
    file: Annotated[
        UploadFile, File(description="An audio file: mp3, wav, flac, ogg/opus or m4a/aac.")
    ],
    features: FeaturesQuery = False,
    timeline: TimelineQuery = False,
) -> EmotionResult:
    """Valence, arousal and quadrant of one song, averaged over its 20-s windows."""
    _check_size(file, settings)
    emotion = await request.app.state.pool.run(analyzer, file.file)
    request.app.state.metrics.observe_stages(emotion.timings_s)
    return _result(emotion, analyzer, features, timeline)


@router.post(
    "/batch", response_model=BatchResult, response_model_exclude_none=True, responses=PROBLEMS
)
async def predict_emotions(
    request: Request,
    analyzer: AnalyzerDep,
    settings: SettingsDep,
    files: Annotated[list[UploadFile], File(description="Audio files, in any supported format.")],
    features: FeaturesQuery = False,
    timeline: TimelineQuery = False,
) -> BatchResult:
    """Several songs in one request, each answered with its result or its own problem.

    A batch takes one place in the analysis pool and its files are analysed one after
    another; send parallel requests for parallelism.
    """
    if len(files) > settings.max_batch_files:
        raise HTTPException(422, f"a batch holds at most {settings.max_batch_files} files")

    def analyse_all() -> list[BatchItem]:
        items = []
        for upload in files:
            try:
                _check_size(upload, settings)
                emotion = analyzer(upload.file)
            except MusicEmotionError as error:
                problem = Problem.model_validate_json(problem_for(error).body)
                items.append(BatchItem(filename=upload.filename, error=problem))
                continue
            request.app.state.metrics.observe_stages(emotion.timings_s)
            result = _result(emotion, analyzer, features, timeline)
            items.append(BatchItem(filename=upload.filename, result=result))
        return items

    return BatchResult(items=await request.app.state.pool.run(analyse_all))
