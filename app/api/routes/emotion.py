"""``/v1/emotion``: the emotion of uploaded songs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, Security, UploadFile

from app.analysis import Emotion
from app.api.deps import ModelDep, PoolDep, SettingsDep, api_key_header
from app.api.problems import Problem, problem_responses
from app.api.schemas import BATCH_EXAMPLE, EMOTION_EXAMPLE, BatchItem, BatchResult
from app.errors import InputTooLargeError
from app.model import EmotionModel
from app.problems import ProblemError, file_too_large, problem_of
from app.result import EmotionResult, ModelInfo
from app.settings import Settings
from app.worker import AnalysisWorker

router = APIRouter(prefix="/v1/emotion", tags=["emotion"], dependencies=[Security(api_key_header)])

PROBLEMS = problem_responses(400, 401, 413, 415, 422, 500, 503, 504)

FeaturesQuery = Annotated[
    bool,
    Query(
        description="Add the feature summary behind each result: tempo, loudness, zero "
        "crossings, the timbral descriptors, mean spectral centroid and rolloff."
    ),
]
TimelineQuery = Annotated[bool, Query(description="Add the emotion of each 20-s window.")]
MoodsQuery = Annotated[
    bool,
    Query(
        description="Add the nine GEMS mood shares (summing to 1), if the model has a mood head."
    ),
]


def analyse_upload(worker: AnalysisWorker, upload: UploadFile, settings: Settings) -> Emotion:
    """Send one upload to an analysis process (runs on a pool thread: it blocks); its
    emotion, or what the analysis raised."""
    if upload.size is not None and upload.size > settings.max_upload_bytes:
        raise InputTooLargeError(file_too_large(settings.max_upload_bytes))
    upload.file.seek(0)
    return worker.analyse(upload.file.read(), settings.analysis_timeout_s)


def _result(
    emotion: Emotion, model: EmotionModel, features: bool, timeline: bool, moods: bool
) -> EmotionResult:
    return EmotionResult.of(
        emotion, ModelInfo.of(model), features=features, timeline=timeline, moods=moods
    )


@router.post(
    "",
    response_model=EmotionResult,
    response_model_exclude_none=True,
    responses={200: {"content": {"application/json": {"example": EMOTION_EXAMPLE}}}, **PROBLEMS},
)
async def predict_emotion(
    request: Request,
    pool: PoolDep,
    model: ModelDep,
    settings: SettingsDep,
    file: Annotated[
        UploadFile, File(description="An audio file: mp3, wav, flac, ogg/opus or m4a/aac.")
    ],
    features: FeaturesQuery = False,
    timeline: TimelineQuery = False,
    moods: MoodsQuery = False,
) -> EmotionResult:
    """Valence, arousal and quadrant of one song, averaged over its 20-s windows.

    Example: `curl -F file=@song.mp3 'http://127.0.0.1:8000/v1/emotion?features=true'`.
    """
    emotion = await pool.run(lambda worker: analyse_upload(worker, file, settings))
    request.app.state.metrics.observe_stages(emotion.timings_s)
    return _result(emotion, model, features, timeline, moods)


@router.post(
    "/batch",
    response_model=BatchResult,
    response_model_exclude_none=True,
    responses={200: {"content": {"application/json": {"example": BATCH_EXAMPLE}}}, **PROBLEMS},
)
async def predict_emotions(
    request: Request,
    pool: PoolDep,
    model: ModelDep,
    settings: SettingsDep,
    files: Annotated[list[UploadFile], File(description="Audio files, in any supported format.")],
    features: FeaturesQuery = False,
    timeline: TimelineQuery = False,
    moods: MoodsQuery = False,
) -> BatchResult:
    """Several songs in one request, each answered with its result or its own problem.

    A batch holds at most `MUSIC_EMOTION_MAX_BATCH_FILES` files and
    `MUSIC_EMOTION_MAX_BATCH_BYTES` bytes in all (else 413), each file at most
    `MUSIC_EMOTION_MAX_UPLOAD_BYTES` (else that file's own 413). It takes one place in the
    analysis pool and its files are analysed one after another; send parallel requests
    for parallelism.
    """
    if len(files) > settings.max_batch_files:
        raise ProblemError(
            "too-many-files",
            f"a batch holds at most {settings.max_batch_files} files; this one holds {len(files)}",
        )

    def analyse_all(worker: AnalysisWorker) -> list[BatchItem]:
        items = []
        for upload in files:
            try:
                emotion = analyse_upload(worker, upload, settings)
            except Exception as error:  # each file gets its own problem, 500 if unexpected
                problem = Problem(**problem_of(error).as_dict())
                items.append(BatchItem(filename=upload.filename, error=problem))
                continue
            request.app.state.metrics.observe_stages(emotion.timings_s)
            result = _result(emotion, model, features, timeline, moods)
            items.append(BatchItem(filename=upload.filename, result=result))
        return items

    return BatchResult(items=await pool.run(analyse_all))
