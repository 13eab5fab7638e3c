"""Decode any supported audio file to float32 samples at the analysis rate.

libsndfile (through soundfile) reads WAV, FLAC, Ogg Vorbis, Opus and MP3 quickly;
everything else (M4A/AAC, and files libsndfile rejects) goes through FFmpeg's
decoders bundled with PyAV. Both paths stream the file in blocks and resample each
block with soxr's high-quality stream resampler, the resampler ``librosa.load`` uses,
so no more than ``max_duration_s`` seconds are ever decoded.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np
import soundfile as sf
import soxr

from app.errors import AudioTooShortError, EmptyInputError, UndecodableAudioError
from app.features.config import SAMPLE_RATE

BLOCK_FRAMES = 1152 * 64
"""Frames read per block at the source rate: bounds decoding memory.

A multiple of the MP3 frame (1152 samples): libsndfile's MP3 reader returns
different samples when a read ends inside an MP3 frame."""

MIN_DURATION_S = 1.0
"""Shorter audio carries too little music to analyse."""

Source = str | Path | bytes | BinaryIO


@dataclass(frozen=True)
class Audio:
    """Decoded audio at the analysis rate.

    Attributes
    ----------
    samples : np.ndarray
        float32 array of shape (channels, n) at ``sample_rate``.
    sample_rate : int
        Always :data:`app.features.config.SAMPLE_RATE`.
    source_sample_rate : int
        The file's own sample rate.
    truncated : bool
        True when the file is longer than the decoded ``max_duration_s``.
    """

    samples: np.ndarray
    sample_rate: int
    source_sample_rate: int
    truncated: bool

    @property
    def channels(self) -> int:
        """Number of channels."""
        return self.samples.shape[0]

    @property
    def duration_s(self) -> float:
        """Duration of the decoded samples in seconds."""
        return self.samples.shape[1] / self.sample_rate

    @property
    def mono(self) -> np.ndarray:
        """The channels averaged, as ``librosa.to_mono`` does."""
        if self.channels == 1:
            return self.samples[0]
        return self.samples.mean(axis=0)


def decode(source: Source, *, max_duration_s: float = 600.0) -> Audio:
    """Decode ``source`` (a path, bytes or a binary file object) to :class:`Audio`.

    Parameters
    ----------
    source : path, bytes or binary file object
        The encoded audio.
    max_duration_s : float
        Decode at most this many seconds from the start; the rest is ignored.

    Raises
    ------
    EmptyInputError, UndecodableAudioError, AudioTooShortError

    Examples
    --------
    >>> audio = decode("song.mp3")  # doctest: +SKIP
    >>> audio.samples.shape[0], audio.sample_rate  # doctest: +SKIP
    (2, 22050)
    """
    if isinstance(source, bytes):
        if not source:
            raise EmptyInputError("the file is empty")
        source = io.BytesIO(source)
    elif isinstance(source, (str, Path)) and Path(source).stat().st_size == 0:
        raise EmptyInputError("the file is empty")
    elif hasattr(source, "seek"):
        source.seek(0, io.SEEK_END)
        empty = source.tell() == 0
        source.seek(0)
        if empty:
            raise EmptyInputError("the file is empty")

    try:
        blocks, rate, channels = _open_soundfile(source)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        _rewind(source)
        blocks, rate, channels = _open_pyav(source)
    max_frames = int(max_duration_s * rate)
    blocks, channels = _sanitised(blocks, channels)
    samples, truncated = _resample(blocks, rate, channels, max_frames)
    audio = Audio(samples, SAMPLE_RATE, rate, truncated)
    if audio.duration_s < MIN_DURATION_S:
        raise AudioTooShortError(
            f"the audio lasts {audio.duration_s:.2f} s; at least {MIN_DURATION_S:g} s is needed"
        )
    return audio


MAX_CHANNELS = 8
"""More channels than 7.1 is not a song; refusing them also bounds one block's memory."""

MAX_AMPLITUDE = 8.0
"""Float samples are clipped to this (18 dB over full scale, past any real master) so that
squared magnitudes stay finite in float32."""


def _sanitised(blocks: Iterator[np.ndarray], channels: int) -> tuple[Iterator[np.ndarray], int]:
    """Guard against hostile files: too many channels, NaN or infinite samples, absurd levels.

    More than two channels (5.1, 7.1) are mixed to mono: BS.1770's channel weights,
    hence the loudness feature, stop at five channels, and the other features read
    the mono mix anyway.
    """
    if channels > MAX_CHANNELS:
        raise UndecodableAudioError(
            f"the audio has {channels} channels; at most {MAX_CHANNELS} are supported"
        )

    def clean() -> Iterator[np.ndarray]:
        try:
            for block in blocks:
                if not np.isfinite(block).all():
                    raise UndecodableAudioError("the audio holds NaN or infinite samples")
                np.clip(block, -MAX_AMPLITUDE, MAX_AMPLITUDE, out=block)
                yield block.mean(axis=1, keepdims=True) if channels > 2 else block
        finally:
            close = getattr(blocks, "close", None)
            if close is not None:
                close()

    return clean(), 1 if channels > 2 else channels


def _rewind(source: Source) -> None:
    if hasattr(source, "seek"):
        source.seek(0)


def _open_soundfile(source: Source) -> tuple[Iterator[np.ndarray], int, int]:
    """Open with libsndfile; yields (frames, channels) float32 blocks."""
    handle = sf.SoundFile(source)
    if handle.samplerate <= 0 or handle.channels <= 0:
        handle.close()
        raise ValueError("no audio stream")

    def blocks() -> Iterator[np.ndarray]:
        with handle:
            while True:
                block = handle.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
                if not len(block):
                    return
                yield block

    return blocks(), handle.samplerate, handle.channels


def _open_pyav(source: Source) -> tuple[Iterator[np.ndarray], int, int]:
    """Open with FFmpeg (PyAV); yields (frames, channels) float32 blocks."""
    try:
        container = av.open(source if not isinstance(source, Path) else str(source), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise UndecodableAudioError("the file is not audio in a supported format") from exc
    if not container.streams.audio:
        container.close()
        raise UndecodableAudioError("the file holds no audio stream")
    stream = container.streams.audio[0]
    rate = stream.codec_context.sample_rate or stream.rate
    channels = stream.codec_context.channels
    if not rate or not channels:
        container.close()
        raise UndecodableAudioError("the audio stream has no sample rate or channels")
    resampler = av.AudioResampler(format="flt", layout=stream.layout, rate=rate)

    def blocks() -> Iterator[np.ndarray]:
        with container:
            try:
                for frame in container.decode(stream):
                    for out in resampler.resample(frame):
                        yield out.to_ndarray().reshape(-1, channels)
            except av.error.FFmpegError as exc:
                raise UndecodableAudioError(f"the audio is corrupt: {exc}") from exc

    return blocks(), rate, channels


def _resample(
    blocks: Iterator[np.ndarray], rate: int, channels: int, max_frames: int
) -> tuple[np.ndarray, bool]:
    """Resample blocks to the analysis rate, stopping after ``max_frames`` source frames."""
    stream = soxr.ResampleStream(rate, SAMPLE_RATE, channels, dtype="float32", quality="HQ")
    out: list[np.ndarray] = []
    taken = 0
    truncated = False
    try:
        for block in blocks:
            if taken + len(block) >= max_frames:
                truncated = taken + len(block) > max_frames or next(blocks, None) is not None
                block = block[: max_frames - taken]
                out.append(stream.resample_chunk(block, last=True))
                taken = max_frames
                break
            taken += len(block)
            out.append(stream.resample_chunk(block))
        else:
            out.append(stream.resample_chunk(np.zeros((0, channels), np.float32), last=True))
    except sf.LibsndfileError as exc:
        raise UndecodableAudioError(f"the audio is corrupt: {exc}") from exc
    finally:
        close = getattr(blocks, "close", None)
        if close is not None:
            close()
    if taken == 0:
        raise UndecodableAudioError("the file holds no audio samples")
    # One copy, straight into the (channels, n) layout.
    return np.concatenate([block.T for block in out], axis=1), truncated
