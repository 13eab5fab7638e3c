"""Analysing uploads, shared by every route that analyses audio (``/v1/emotion``,
``/v1/audio-features``): the upload limit, a place in the analysis pool, the per-stage
metrics, and a batch whose failed files each get their own problem.

A route gives the answer it makes of an analysed song (``answer``); it runs on the pool's
thread, after the analysis, so that one analysis serves any resource.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request, UploadFile

from app.analysis import Emotion
from app.api.capacity import AnalysisPool
from app.api.problems import Problem
from app.errors import InputTooLargeError
from app.problems import ProblemError, file_too_large, problem_of
from app.settings import Settings
from app.worker import AnalysisWorker

T = TypeVar("T")


def analyse_upload(worker: AnalysisWorker, upload: UploadFile, settings: Settings) -> Emotion:
    """Send one upload to an analysis process (runs on a pool thread: it blocks); its
    emotion, or what the analysis raised."""
    if upload.size is not None and upload.size > settings.max_upload_bytes:
        raise InputTooLargeError(file_too_large(settings.max_upload_bytes))
    upload.file.seek(0)
    return worker.analyse(upload.file.read(), settings.analysis_timeout_s)


async def analyse_one(
    request: Request,
    pool: AnalysisPool,
    settings: Settings,
    upload: UploadFile,
    answer: Callable[[Emotion], T],
) -> T:
    """The ``answer`` of one upload's analysis; raises what the analysis raised."""

    def run(worker: AnalysisWorker) -> T:
        emotion = analyse_upload(worker, upload, settings)
        request.app.state.metrics.observe_stages(emotion.timings_s)
        return answer(emotion)

    return await pool.run(run)


async def analyse_batch(
    request: Request,
    pool: AnalysisPool,
    settings: Settings,
    uploads: list[UploadFile],
    answer: Callable[[Emotion], T],
) -> list[T | Problem]:
    """Each upload's ``answer``, or the problem that stopped it, in order.

    The batch takes one place in the pool and its files are analysed one after another;
    more than ``max_batch_files`` files is a ``too-many-files`` problem for the whole batch.
    """
    if len(uploads) > settings.max_batch_files:
        raise ProblemError(
            "too-many-files",
            f"a batch holds at most {settings.max_batch_files} files; "
            f"this one holds {len(uploads)}",
        )

    def run(worker: AnalysisWorker) -> list[T | Problem]:
        answers: list[T | Problem] = []
        for upload in uploads:
            try:
                emotion = analyse_upload(worker, upload, settings)
                request.app.state.metrics.observe_stages(emotion.timings_s)
                answers.append(answer(emotion))
            except Exception as error:  # each file gets its own problem, 500 if unexpected
                answers.append(Problem(**problem_of(error).as_dict()))
        return answers

    return await pool.run(run)
