"""The one scoring function of both engines: a callable class, built once, called per batch.

:class:`Scorer` owns an :class:`~app.worker.AnalysisWorker`, the service's
supervised analysis process: the model is loaded and warmed up once, a file that
crashes the process or runs past the time limit costs only its own row
(``analysis-crashed``, ``analysis-timeout``) and a fresh process takes the next file.
The local engine calls :meth:`Scorer.score` from one thread per worker; Ray Data
builds one Scorer per actor and calls it on batches (``map_batches``).
"""

from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from app.audio_features import AudioFeaturesCalibration
from app.catalogue import rows
from app.catalogue.sources import Entry, read_bytes
from app.dataset import is_uri
from app.errors import WorkerCrashedError
from app.problems import problem_of
from app.result import ModelInfo
from app.worker import AnalysisWorker

logger = logging.getLogger("music_emotion.catalogue")

START_ATTEMPTS = 3
"""Analysis processes started before a worker gives up (a model that cannot load)."""


@dataclass(frozen=True)
class ScoringOptions:
    """What every worker needs: the model, the limits and the columns to fill.

    Attributes
    ----------
    model_path : folder of the model and its card
    model : the model's name and version, for the ``model`` column
    max_duration_s : longest analysed duration of a file
    max_remote_bytes : largest file read from object storage (it is held in memory)
    timeout_s : longest analysis of one file before its process is killed
    columns : the optional columns
    audio_features : the model's audio-features calibration, with ``columns.audio_features``
    """

    model_path: Path
    model: ModelInfo
    max_duration_s: float
    max_remote_bytes: int
    timeout_s: float
    columns: rows.Columns
    audio_features: AudioFeaturesCalibration | None = None


class Scorer:
    """Score files in a supervised analysis process; the same instance serves many files.

    Parameters
    ----------
    options : ScoringOptions
    """

    def __init__(self, options: ScoringOptions) -> None:
        self.options = options
        self.schema = options.columns.schema()
        self.worker = AnalysisWorker(options.model_path, options.max_duration_s)
        for attempt in range(START_ATTEMPTS):
            try:
                self.worker.wait_ready()
                break
            except WorkerCrashedError:  # the worker has started a fresh process
                if attempt == START_ATTEMPTS - 1:
                    raise

    def score(self, entry: Entry) -> dict:
        """The row of one file: its result, or its problem."""
        try:
            emotion = self.worker.analyse(self._source(entry.path), self.options.timeout_s)
        except Exception as error:  # every failure is the file's row, the job goes on
            problem = problem_of(error)
            if problem.slug == "internal-error":
                logger.exception("unexpected error scoring %s", entry.path)
            return rows.problem_row(entry, problem, self.options.model)
        options = self.options
        return rows.result_row(
            entry, emotion, options.model, options.columns, options.audio_features
        )

    def _source(self, location: str) -> Path | bytes:
        """What the analysis process reads: a local file's path (it is decoded streaming,
        and never opened here: a FIFO would block), or a remote file's bytes."""
        if is_uri(location):
            return read_bytes(location, self.options.max_remote_bytes)
        if not os.access(location, os.R_OK):  # raises FileNotFoundError for a missing file
            os.stat(location)
            raise PermissionError(errno.EACCES, "permission denied", location)
        return Path(location)

    def __call__(self, batch: pa.Table) -> pa.Table:
        """Score a batch of entries (a table with the identity columns)."""
        return rows.table([self.score(entry) for entry in rows.entries_of(batch)], self.schema)

    def close(self) -> None:
        """Stop the analysis process."""
        self.worker.stop()
