"""``/v1/emotion``: the emotion of uploaded songs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, Security, UploadFile

from app.analysis import Emotion
from app.api.deps import ModelDep, PoolDep, SettingsDep, api_key_header, get_audio_features
from app.api.problems import Problem, problem_responses
from app.api.schemas import BATCH_EXAMPLE, EMOTION_EXAMPLE, BatchItem, BatchResult
from app.api.uploads import analyse_batch, analyse_one
from app.audio_features import AudioFeaturesCalibration
from app.model import EmotionModel
from app.result import EmotionResult, ModelInfo, reported_audio_features

router = APIRouter(prefix="/v1/emotion", tags=["emotion"], dependencies=[Security(api_key_header)])

PROBLEMS = problem_responses(400, 401, 413, 415, 422, 500, 501, 503, 504)

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
AudioFeaturesQuery = Annotated[
    bool,
    Query(
        description="Add Spotify's audio features, `/v1/audio-features`' answer for the same "
        "analysis (501 if the model cannot give them)."
    ),
]


def _result(
    emotion: Emotion,
    model: EmotionModel,
    features: bool,
    timeline: bool,
    moods: bool,
    calibration: AudioFeaturesCalibration | None,
) -> EmotionResult:
    """The answer, with the audio features when ``calibration`` is given."""
    spotify = None if calibration is None else reported_audio_features(emotion, calibration)
    return EmotionResult.of(
        emotion,
        ModelInfo.of(model),
        features=features,
        timeline=timeline,
        moods=moods,
        audio_features=spotify,
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
    audio_features: AudioFeaturesQuery = False,
) -> EmotionResult:
    """Valence, arousal and quadrant of one song, averaged over its 20-s windows.

    `audio_features=true` adds `/v1/audio-features`' answer from the same analysis.
    Example: `curl -F file=@song.mp3 'http://127.0.0.1:8000/v1/emotion?features=true'`.
    """
    calibration = get_audio_features(request) if audio_features else None
    return await analyse_one(
        request,
        pool,
        settings,
        file,
        lambda emotion: _result(emotion, model, features, timeline, moods, calibration),
    )


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
    audio_features: AudioFeaturesQuery = False,
) -> BatchResult:
    """Several songs in one request, each answered with its result or its own problem.

    A batch holds at most `MUSIC_EMOTION_MAX_BATCH_FILES` files and
    `MUSIC_EMOTION_MAX_BATCH_BYTES` bytes in all (else 413), each file at most
    `MUSIC_EMOTION_MAX_UPLOAD_BYTES` (else that file's own 413). It takes one place in the
    analysis pool and its files are analysed one after another; send parallel requests
    for parallelism.
    """
    calibration = get_audio_features(request) if audio_features else None
    answers = await analyse_batch(
        request,
        pool,
        settings,
        files,
        lambda emotion: _result(emotion, model, features, timeline, moods, calibration),
    )
    return BatchResult(
        items=[
            BatchItem(filename=upload.filename, error=answer)
            if isinstance(answer, Problem)
            else BatchItem(filename=upload.filename, result=answer)
            for upload, answer in zip(files, answers, strict=True)
        ]
    )
