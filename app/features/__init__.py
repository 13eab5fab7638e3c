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

from dataclasses import dataclass, fields
from itertools import pairwise

import numpy as np

from app.audio import mono_mix
from app.errors import SilentAudioError
from app.features.budget import descriptor_spans
from app.features.config import DEFAULT_CONFIG, SAMPLE_RATE, FeatureConfig
from app.features.evidence import Evidence, song_evidence
from app.features.loudness import SILENCE_LUFS, integrated_loudness
from app.features.musicnn import EMBEDDING_OUTPUT, TAGGRAM_OUTPUT, MusicnnEmbedder
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
    taggram : np.ndarray or None
        Shape (patches, 50): musicnn's tag probabilities of the same patches (tag names in
        the network's card), or None without the network.
    evidence : Evidence or None
        Rhythm, key, level and texture evidence (:mod:`app.features.evidence`); None
        only in features stored before it existed.
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
    taggram: np.ndarray | None = None
    evidence: Evidence | None = None

    @property
    def n_steps(self) -> int:
        """Number of time steps."""
        return self.spectral_centroid.shape[0]


def extract(
    samples: np.ndarray,
    config: FeatureConfig = DEFAULT_CONFIG,
    *,
    loudness_lufs: float | None = None,
    mono_loudness_lufs: float | None = None,
    embedder: MusicnnEmbedder | None = None,
) -> Features:
    """Compute all features of ``samples``, shape (channels, n) at ``config.sample_rate``.

    Loudness is measured on all channels (as BS.1770 defines it); every other feature
    on their average. A caller that measured the loudness of all channels already may
    pass it with the mono mix alone as ``samples``, and free the channels; if it also
    measured the mix's loudness (which the timbral models normalise; see
    :func:`app.features.loudness.integrated_loudness_and_mix`), it may pass that as
    ``mono_loudness_lufs`` rather than have it measured again. With an ``embedder``
    the features include musicnn's embedding and tags of every 3-s patch.

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
    mono = mono_mix(samples)
    loudness = integrated_loudness(samples, sr) if loudness_lufs is None else loudness_lufs
    if loudness <= SILENCE_LUFS:
        raise SilentAudioError("the audio is silent (below -70 LUFS throughout)")
    # The timbral models normalise the level of the mono mix, not of all channels.
    mono_loudness = mono_loudness_lufs
    if mono_loudness is None:
        measured_on_mono = samples.shape[0] == 1 and loudness_lufs is None
        mono_loudness = loudness if measured_on_mono else integrated_loudness(mono, sr)
    spans = descriptor_spans(mono.shape[0], config)
    spectral = spectral_features(mono, config, tempo_spans=spans)
    patches = None if embedder is None else embedder.embed(mono, sr)
    return Features(
        duration_s=mono.shape[0] / sr,
        tempo_bpm=spectral.tempo_bpm,
        loudness_lufs=loudness,
        zero_crossings_per_s=zero_crossings_per_s(mono, sr),
        timbre=song_timbre(mono, sr, mono_loudness, spans),
        spectral_centroid=spectral.spectral_centroid,
        spectral_rolloff=spectral.spectral_rolloff,
        mfcc=spectral.mfcc,
        chroma=spectral.chroma,
        embedding=None if patches is None else patches[EMBEDDING_OUTPUT],
        taggram=None if patches is None else patches[TAGGRAM_OUTPUT],
        evidence=song_evidence(mono, sr, config.hop_length, spectral, mono_loudness),
    )


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
