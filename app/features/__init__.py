"""The one feature pipeline, shared by the service and the training package.

:func:`extract` turns decoded samples into a :class:`Features` record: song-level
scalars (tempo, loudness, zero crossings, eight timbral descriptors), 0.1-s time
steps of spectral centroid, rolloff, MFCC and chroma over the whole analysed audio, and
the song-level evidence behind the audio features (:mod:`app.features.evidence`). The
tempo and the timbral descriptors read a bounded sample of a long song
(:mod:`app.features.budget`).
:mod:`app.features.windows` cuts those steps into the network's 200-step windows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from itertools import pairwise

import numpy as np

from app.audio import mono_mix
from app.errors import SilentAudioError
from app.features.budget import descriptor_spans, excerpt_starts
from app.features.config import DEFAULT_CONFIG, SAMPLE_RATE, FeatureConfig
from app.features.evidence import Evidence, song_evidence
from app.features.loudness import SILENCE_LUFS, integrated_loudness
from app.features.musicnn import (
    EMBEDDING_OUTPUT,
    TAGGRAM_OUTPUT,
    MusicnnEmbedder,
    musicnn_patches,
    patches_centred_in,
)
from app.features.spectral import spectral_features
from app.features.timbre import Timbre
from app.features.timbre import timbre as timbral_descriptors
from app.features.zero_crossings import zero_crossings_per_s

__all__ = [
    "DEFAULT_CONFIG",
    "SAMPLE_RATE",
    "Evidence",
    "FeatureConfig",
    "Features",
    "Timbre",
    "extract",
]

TIMBRE_CHUNK_S = 60.0
"""Longest stretch the timbral models see at once.

The reference package analyses whole (short) files; a longer stretch is cut into equal
chunks of at most this length and their descriptors averaged, weighted by duration,
so that memory stays bounded whatever the budget."""


@dataclass(frozen=True)
class Features:
    """Everything the model reads about one song.

    Attributes
    ----------
    duration_s : float
        Duration of the analysed audio.
    tempo_bpm, loudness_lufs, zero_crossings_per_s : float
        Song-level scalars; loudness is BS.1770 integrated over all channels.
    timbre : Timbre
        The eight AudioCommons timbral descriptors.
    spectral_centroid, spectral_rolloff : np.ndarray
        Shape (steps,), Hz, one value per ``config.step_s`` seconds.
    mfcc, chroma : np.ndarray
        Shapes (n_mfcc, steps) and (n_chroma, steps).
    embedding : np.ndarray or None
        Shape (patches, 200): musicnn's ``penultimate`` of each non-overlapping patch of
        :data:`~app.features.musicnn.PATCH_S` seconds (:mod:`app.features.musicnn`), or
        None when the model reads no embedding.
    excerpts : np.ndarray or None
        For a song read through excerpts (:func:`app.features.budget.excerpt_starts`), the
        first step of each: the step arrays then hold each excerpt's ``config.n_steps``
        steps one after the other. None when they hold every step of the song.
    patch_index : np.ndarray or None
        The patch (from the song's start) of each row of ``embedding``: for a song read
        through excerpts, the patches centred in them. None when the rows are every patch.
    taggram : np.ndarray or None
        Shape (patches, 50): musicnn's tag probabilities of the same patches as
        ``embedding`` (tag names in the network's card), or None without the network.
    evidence : Evidence or None
        Rhythm, key, level and texture evidence (:mod:`app.features.evidence`), of the
        excerpts for a song read through them; None only in features stored before it
        existed.
    """

    duration_s: float
    tempo_bpm: float
    loudness_lufs: float
    zero_crossings_per_s: float
    timbre: Timbre
    spectral_centroid: np.ndarray
    spectral_rolloff: np.ndarray
    mfcc: np.ndarray
    chroma: np.ndarray
    embedding: np.ndarray | None = None
    excerpts: np.ndarray | None = None
    patch_index: np.ndarray | None = None
    taggram: np.ndarray | None = None
    evidence: Evidence | None = None


def extract(
    samples: np.ndarray,
    config: FeatureConfig = DEFAULT_CONFIG,
    *,
    loudness_lufs: float | None = None,
    mono_loudness_lufs: float | None = None,
    embedder: MusicnnEmbedder | None = None,
    timings: dict[str, float] | None = None,
) -> Features:
    """Compute all features of ``samples``, shape (channels, n) at ``config.sample_rate``.

    Loudness is measured on all channels (as BS.1770 defines it); every other feature
    on their average. A caller that measured the loudness of all channels already may
    pass it with the mono mix alone as ``samples``, and free the channels; if it also
    measured the mix's loudness (which the timbral models normalise; see
    :func:`app.features.loudness.integrated_loudness_and_mix`), it may pass that as
    ``mono_loudness_lufs`` rather than have it measured again. With an ``embedder``
    the features include musicnn's embedding and tags of every 3-s patch. With ``timings``, the
    seconds each family of features took are added to it (:data:`STAGES`).

    Raises
    ------
    SilentAudioError
        If no part of the audio is louder than BS.1770's absolute gate (-70 LUFS).

    Examples
    --------
    >>> from app.audio import decode
    >>> features = extract(decode("song.mp3").samples)  # doctest: +SKIP
    """
    samples = np.atleast_2d(samples)
    sr = config.sample_rate
    clock = _Stopwatch(timings)
    mono = mono_mix(samples)
    with clock("loudness"):
        loudness = integrated_loudness(samples, sr) if loudness_lufs is None else loudness_lufs
        if loudness <= SILENCE_LUFS:
            raise SilentAudioError("the audio is silent (below -70 LUFS throughout)")
        # The timbral models normalise the level of the mono mix, not of all channels.
        mono_loudness = mono_loudness_lufs
        if mono_loudness is None:
            measured_on_mono = samples.shape[0] == 1 and loudness_lufs is None
            mono_loudness = loudness if measured_on_mono else integrated_loudness(mono, sr)
    spans = descriptor_spans(mono.shape[0], config)
    excerpts = excerpt_starts(mono.shape[0], config)
    with clock("spectral"):
        spectral = spectral_features(mono, config, tempo_spans=spans, excerpts=excerpts)
    with clock("zero_crossings"):
        crossings = zero_crossings_per_s(mono, sr)
    with clock("timbre"):
        timbre = song_timbre(mono, sr, mono_loudness, spans)
    with clock("evidence"):
        evidence = song_evidence(mono, sr, config.hop_length, spectral, mono_loudness)
    outputs, patch_index = {}, None
    if embedder is not None:
        outputs, patch_index = song_embedding(mono, sr, embedder, excerpts, config, clock)
    return Features(
        duration_s=mono.shape[0] / sr,
        tempo_bpm=spectral.tempo_bpm,
        loudness_lufs=loudness,
        zero_crossings_per_s=crossings,
        timbre=timbre,
        spectral_centroid=spectral.spectral_centroid,
        spectral_rolloff=spectral.spectral_rolloff,
        mfcc=spectral.mfcc,
        chroma=spectral.chroma,
        embedding=outputs.get(EMBEDDING_OUTPUT),
        excerpts=excerpts,
        patch_index=patch_index,
        taggram=outputs.get(TAGGRAM_OUTPUT),
        evidence=evidence,
    )


STAGES = (
    "loudness",
    "spectral",
    "zero_crossings",
    "timbre",
    "evidence",
    "musicnn_input",
    "musicnn_network",
)
"""The families of features :func:`extract` times: the loudness (when it measures it), the
spectral features and tempo, the zero crossings, the timbral descriptors, the audio
features' evidence, musicnn's log-mel patches and its network."""


class _Stopwatch:
    """Adds the seconds spent in each ``with stopwatch(stage):`` block to ``timings``."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            if self.timings is not None:
                self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start


def song_embedding(
    mono: np.ndarray,
    sr: int,
    embedder: MusicnnEmbedder,
    excerpts: np.ndarray | None,
    config: FeatureConfig,
    clock: _Stopwatch | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """musicnn's outputs (output name -> (patches, size)) of every patch of ``mono``, or of
    those centred in the ``excerpts`` (first steps of the windows a long song is read
    through) with their indices. The log-mel patches are cut from the whole song either
    way, so that each patch is the one training reads (it embeds every patch)."""
    clock = clock or _Stopwatch(None)
    with clock("musicnn_input"):
        patches = musicnn_patches(mono, sr)
        index = None
        if excerpts is not None:
            starts_s = excerpts * config.step_s
            centred = [patches_centred_in(len(patches), s, config.window_s) for s in starts_s]
            index = np.unique(np.concatenate(centred))
            patches = patches[index]
    with clock("musicnn_network"):
        return embedder(patches), index


def song_timbre(
    mono: np.ndarray,
    sr: int,
    loudness_lufs: float,
    spans: list[tuple[int, int]] | None = None,
) -> Timbre:
    """Timbral descriptors of the ``spans`` (sample ranges; the whole song if None) of a
    song, chunk by chunk (see :data:`TIMBRE_CHUNK_S`), averaged weighted by duration.

    ``loudness_lufs`` is the whole song's; each chunk of a longer stretch is normalised by
    its own. Silent chunks (nothing above -70 LUFS) have no timbre and are left out; should
    every excerpt of a sampled song be silent, the whole song is read instead.
    """
    whole = _chunks(0, mono.shape[0], sr)
    chunks = [chunk for span in spans or [(0, mono.shape[0])] for chunk in _chunks(*span, sr)]
    if chunks == [(0, mono.shape[0])]:
        return timbral_descriptors(mono, sr, loudness_lufs=loudness_lufs)
    parts, weights = [], []
    for start, stop in chunks:
        chunk = mono[start:stop]
        chunk_loudness = integrated_loudness(chunk, sr)
        if chunk_loudness > SILENCE_LUFS:
            parts.append(timbral_descriptors(chunk, sr, loudness_lufs=chunk_loudness))
            weights.append(stop - start)
    if not parts and chunks != whole:
        return song_timbre(mono, sr, loudness_lufs)
    return Timbre(
        **{
            f.name: float(np.average([getattr(p, f.name) for p in parts], weights=weights))
            for f in fields(Timbre)
        }
    )


def _chunks(start: int, stop: int, sr: int) -> list[tuple[int, int]]:
    """``[start, stop)`` cut into equal chunks of at most :data:`TIMBRE_CHUNK_S`."""
    n_chunks = max(1, int(np.ceil((stop - start) / (TIMBRE_CHUNK_S * sr))))
    bounds = np.linspace(start, stop, n_chunks + 1).astype(int)
    return [(int(a), int(b)) for a, b in pairwise(bounds)]
