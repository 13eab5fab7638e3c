"""musicnn's input (log-mel patches) and its pretrained network run with onnxruntime.

musicnn (Pons & Serra 2019, ISC licence) tags music with convolutional networks trained
on the Million Song Dataset (MSD_musicnn) or MagnaTagATune (MTT_musicnn); their
intermediate activations serve as a general music representation. Its front-end, as
``musicnn.extractor.batch_data`` computes it: audio at 16 kHz, a 512-sample STFT every
256 samples, 96 mel bands (librosa's Slaney mel filters, power spectrum), rounded to
float16 as the package stores it, then ``log10(10000 x + 1)`` (in float32: see
:func:`log_mel`), cut into non-overlapping patches of 187 frames (3 s). The network,
converted from the package's TensorFlow checkpoint by :mod:`training.musicnn_convert`,
is one ONNX file with a JSON card beside it; a model that reads its embedding carries it
in its own folder (``musicnn.onnx``, see :mod:`app.model`). Nothing here reads settings:
the caller names the network.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import librosa
import numpy as np
import onnxruntime as ort
import soxr

from app.errors import ModelContractError
from app.features.config import SAMPLE_RATE

MUSICNN_SAMPLE_RATE = 16000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
PATCH_FRAMES = 187
"""Frames per patch: ``librosa.time_to_frames(3 s) + 1``, as the package computes it."""
PATCH_SHAPE = (PATCH_FRAMES, N_MELS)
PATCH_S = PATCH_FRAMES * HOP_LENGTH / MUSICNN_SAMPLE_RATE
"""Duration of one patch: 2.992 s; patch ``i`` covers ``[i, i + 1) * PATCH_S`` seconds."""

FRONT_END = {
    "sample_rate": MUSICNN_SAMPLE_RATE,
    "n_fft": N_FFT,
    "hop_length": HOP_LENGTH,
    "n_mels": N_MELS,
    "patch_frames": PATCH_FRAMES,
    "compression": "log10(10000 x + 1)",
}
"""What this module computes; a model card must record the same to be loaded."""

INPUT_NAME = "patches"
"""The graph's input: (patches, 187, 96) float32 log-mel patches."""

OUTPUT_NAMES: tuple[str, ...] = ("taggram", "penultimate", "max_pool", "mean_pool")
"""The graph's outputs, per patch: tag probabilities (50), the back-end's dense layer
(200), and the max and mean over time of the front- and mid-end features (753 each)."""

EMBEDDING_OUTPUT = "penultimate"
"""The output the emotion model reads, per patch (200 values): the back-end's dense layer,
the best of the network's outputs as input to a linear probe of valence and arousal."""

TAGGRAM_OUTPUT = "taggram"
"""The output of tag probabilities, per patch (50 values, named by the card's ``tags``)."""


def graph_sha256(model: Path) -> str:
    """SHA-256 of ``<model>.onnx``: how a model card names the musicnn graph it reads."""
    return hashlib.sha256(Path(model).with_suffix(".onnx").read_bytes()).hexdigest()


def log_mel(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """musicnn's log-mel spectrogram of mono ``samples``: (frames, 96) float32.

    Audio at another rate is first resampled to 16 kHz with soxr's high-quality
    resampler, the one ``librosa.load`` (and so the package) uses.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if sample_rate != MUSICNN_SAMPLE_RATE:
        samples = soxr.resample(samples, sample_rate, MUSICNN_SAMPLE_RATE, quality="HQ")
    mel = librosa.feature.melspectrogram(
        y=samples, sr=MUSICNN_SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS
    ).T
    # The package rounds the mel power to float16, then takes the log in float16 too, where
    # 10000 x overflows to inf for x > 6.55 (loud bands: in every one of 15 shared clips
    # checked). Only the rounding is kept: the log is taken in float32.
    rounded = mel.astype(np.float16).astype(np.float32)
    return np.log10(10000 * rounded + 1)


def musicnn_patches(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Non-overlapping 3-s log-mel patches of mono ``samples``: (patches, 187, 96) float32.

    Frames after the last whole patch are dropped, as the package drops them. Audio
    shorter than one patch (under 3 s) gives one patch of its frames repeated, the
    ``repeat-pad`` that musicnn's training applied to short clips.
    """
    frames = log_mel(samples, sample_rate)
    if len(frames) < PATCH_FRAMES:
        frames = np.resize(frames, PATCH_SHAPE)
    n_patches = len(frames) // PATCH_FRAMES
    return frames[: n_patches * PATCH_FRAMES].reshape(n_patches, *PATCH_SHAPE)


def patches_centred_in(n_patches: int, start_s: float, length_s: float) -> np.ndarray:
    """Indices of the patches (of ``n_patches`` from the song's start) whose centre lies in
    ``[start_s, start_s + length_s)``: the patches a window of the model reads."""
    centres = (np.arange(n_patches) + 0.5) * PATCH_S
    return np.flatnonzero((centres >= start_s) & (centres < start_s + length_s))


class MusicnnEmbedder:
    """The converted musicnn network, loaded once and run with onnxruntime.

    Parameters
    ----------
    model : Path
        Path of the model without extension: ``<model>.onnx`` and its card ``<model>.json``.
    threads : int
        onnxruntime intra-op threads; 1 suits a worker per core.
    max_batch : int
        Most patches run at once. Patches are independent, so this changes outputs only by
        float rounding (under 1e-6), and memory: the front-end's feature maps take about
        55 MB per patch. One at a time was also the fastest on one thread (0.53 s for a
        60-s clip's 20 patches, against 0.58 s four at a time).
    """

    def __init__(self, model: Path, *, threads: int = 1, max_batch: int = 1):
        model = Path(model)
        self.max_batch = max_batch
        try:
            self.card: dict = json.loads(model.with_suffix(".json").read_text())
        except (OSError, ValueError) as exc:
            raise ModelContractError(f"cannot read the musicnn card of {model}: {exc}") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(model.with_suffix(".onnx")), options, providers=["CPUExecutionProvider"]
        )
        outputs = tuple(output.name for output in self.session.get_outputs())
        if outputs != OUTPUT_NAMES or self.card.get("front_end") != FRONT_END:
            raise ModelContractError(f"{model} is not a musicnn graph for this front-end")

    def __call__(self, patches: np.ndarray) -> dict[str, np.ndarray]:
        """Every output for ``patches`` (n, 187, 96): name -> (n, size)."""
        patches = np.asarray(patches, dtype=np.float32)
        batches = [
            self.session.run(None, {INPUT_NAME: patches[start : start + self.max_batch]})
            for start in range(0, len(patches), self.max_batch)
        ]
        return {
            name: np.concatenate([values[i] for values in batches])
            for i, name in enumerate(OUTPUT_NAMES)
        }

    def embed(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> dict[str, np.ndarray]:
        """Every output for each 3-s patch of mono ``samples``."""
        return self(musicnn_patches(samples, sample_rate))
