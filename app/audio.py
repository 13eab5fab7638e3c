"""Decode any supported audio file to float32 samples at the analysis rate.

libsndfile (through soundfile) reads WAV, FLAC, Ogg Vorbis, Opus and MP3 quickly, and
is what ``librosa.load`` (hence the training data) uses; everything else (M4A/AAC, and
files libsndfile rejects) goes through FFmpeg's decoders bundled with PyAV. A file
libsndfile fails on, or stops reading early (MP3s with junk or garbage inside, which
real catalogues are full of), is decoded again by FFmpeg, which skips damaged packets
as the ``ffmpeg`` command does; the longer decoding wins. Both paths stream the file in
blocks and resample each block with soxr's high-quality stream resampler, the
resampler ``librosa.load`` uses, so no more than ``max_duration_s`` seconds are ever
decoded.
"""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np
import soundfile as sf
import soxr

from app.errors import AudioTooShortError, EmptyInputError, UndecodableAudioError
from app.native_stderr import decoder_stderr_to_log

SAMPLE_RATE = 22050
"""Every file is decoded to this rate (Hz), the rate every feature is computed at."""

BLOCK_FRAMES = 1152 * 64
"""Frames read per block at the source rate: bounds decoding memory.

A multiple of the MP3 frame (1152 samples): libsndfile's MP3 reader returns
different samples when a read ends inside an MP3 frame."""

MIN_DURATION_S = 1.0
"""Shorter audio carries too little music to analyse."""

SHORTFALL = 0.01
"""A decoding that ends more than this fraction short of the length the file declares
(and the file is not cut at the duration limit) is tried again with the other decoder."""

FALLBACK_GAIN_S = 1.0
"""The second decoder's result replaces the first's only if it is this much longer: on
an equal footing the first (libsndfile, as in training) is kept."""

NOT_AUDIO = "the file is not audio in a supported format"

Source = str | Path | bytes | BinaryIO


@dataclass(frozen=True)
class Audio:
    """Decoded audio at the analysis rate.

    Attributes
    ----------
    samples : np.ndarray
        float32 array of shape (channels, n) at ``sample_rate``.
    sample_rate : int
        Always :data:`SAMPLE_RATE`.
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
        """The channels averaged (:func:`mono_mix`)."""
        return mono_mix(self.samples)


def mono_mix(samples: np.ndarray) -> np.ndarray:
    """The mono mix of (channels, n) ``samples``: the channels averaged, as
    ``librosa.to_mono`` does; the one mix every feature reads."""
    samples = np.atleast_2d(samples)
    return samples[0] if samples.shape[0] == 1 else samples.mean(axis=0)


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
        The file is not audio that can be analysed.
    OSError
        A path that cannot be read (missing, a folder, no permission).

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
    elif isinstance(source, (str, Path)):
        if Path(source).is_dir():
            # Not left to the decoders, which would call a folder "not audio".
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(source))
        if Path(source).stat().st_size == 0:
            raise EmptyInputError("the file is empty")
    elif hasattr(source, "seek"):
        source.seek(0, io.SEEK_END)
        empty = source.tell() == 0
        source.seek(0)
        if empty:
            raise EmptyInputError("the file is empty")

    audio = _decode_any(source, max_duration_s)
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


class _DecoderError(Exception):
    """One decoder could not read the file; the other may. ``opened`` tells whether it
    recognised the file as audio before failing."""

    def __init__(self, message: str, *, opened: bool) -> None:
        super().__init__(message)
        self.opened = opened


@dataclass(frozen=True)
class _Stream:
    """An opened file: (frames, channels) float32 blocks, and what the file declares."""

    blocks: Iterator[np.ndarray]
    rate: int
    channels: int
    frames: int | None
    """The length the file declares, if it declares one."""
    stops_at_a_guess: bool = False
    """The decoder stops at a length it guessed, which may cut the file short."""


def _decode_any(source: Source, max_duration_s: float) -> Audio:
    """libsndfile's decoding, unless it fails or stops short and FFmpeg's gets further."""
    try:
        with decoder_stderr_to_log():  # libmpg123 prints every damaged frame
            first, complete = _decode_with(_open_soundfile, source, max_duration_s)
    except _DecoderError as error:
        first, complete, first_error = None, False, error
    if complete:
        return first
    _rewind(source)
    try:
        second, _ = _decode_with(_open_pyav, source, max_duration_s)
    except _DecoderError as error:
        if first is not None:
            return first
        # The message of the decoder that got further into the file.
        chosen = first_error if first_error.opened and not error.opened else error
        raise UndecodableAudioError(str(chosen)) from error
    if first is None or second.duration_s > first.duration_s + FALLBACK_GAIN_S:
        return second
    return first


def _decode_with(
    open_stream: Callable[[Source], _Stream], source: Source, max_duration_s: float
) -> tuple[Audio, bool]:
    """Decode with one decoder; returns the audio and whether the decoding is complete
    (no error, and not short of the declared length). Raises :class:`_DecoderError` if
    it decoded nothing."""
    stream = open_stream(source)
    max_frames = int(max_duration_s * stream.rate)
    blocks, channels = _sanitised(stream.blocks, stream.channels)
    samples, truncated, taken, failed = _resample(blocks, stream.rate, channels, max_frames)
    short = stream.stops_at_a_guess or (
        stream.frames is not None and taken < (1 - SHORTFALL) * stream.frames
    )
    audio = Audio(samples, SAMPLE_RATE, stream.rate, truncated)
    return audio, not failed and (truncated or not short)


def _open_soundfile(source: Source) -> _Stream:
    """Open with libsndfile."""
    try:
        handle = sf.SoundFile(source)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise _DecoderError(NOT_AUDIO, opened=False) from exc
    if handle.samplerate <= 0 or handle.channels <= 0:
        handle.close()
        raise _DecoderError(NOT_AUDIO, opened=False)

    def blocks() -> Iterator[np.ndarray]:
        with handle:
            while True:
                try:
                    block = handle.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
                except (sf.LibsndfileError, RuntimeError) as exc:
                    raise _DecoderError(f"the audio is corrupt: {exc}", opened=True) from exc
                if not len(block):
                    return
                yield block

    # libsndfile says SF_COUNT_MAX (2**63 - 1) for a length it does not know.
    frames = handle.frames if 0 < handle.frames < 2**63 - 1 else None
    # Without a length header libmpg123 guesses the length from the first frame's bit
    # rate and stops reading there: a variable bit rate MP3 is cut short, silently.
    guessed = handle.format in ("MP3", "MPEG") and not _mp3_declares_length(source)
    return _Stream(blocks(), handle.samplerate, handle.channels, frames, guessed)


MP3_LENGTH_HEADERS = (b"Xing", b"Info", b"VBRI")
"""The tags of the headers in an MP3's first frame that give its exact length."""


def _mp3_declares_length(source: Source) -> bool:
    """Whether the MP3's first frame (after any ID3v2 tag) holds a length header."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as file:
            return _mp3_declares_length(file)
    position = source.tell()  # libsndfile's, which it is reading from
    try:
        source.seek(0)
        head = source.read(10)
        if head[:3] == b"ID3" and len(head) == 10:
            size = sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10]))
            source.seek(10 + size)
            head = b""
        first_frame = head + source.read(256)
    finally:
        source.seek(position)
    return any(tag in first_frame for tag in MP3_LENGTH_HEADERS)


def _open_pyav(source: Source) -> _Stream:
    """Open with FFmpeg (PyAV); a damaged packet is skipped, as the ``ffmpeg`` command
    does, and a container that cannot be read further ends the stream."""
    try:
        container = av.open(source if not isinstance(source, Path) else str(source), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise _DecoderError(NOT_AUDIO, opened=False) from exc
    if not container.streams.audio:
        container.close()
        raise _DecoderError("the file holds no audio stream", opened=True)
    stream = container.streams.audio[0]
    rate = stream.codec_context.sample_rate or stream.rate
    channels = stream.codec_context.channels
    if not rate or not channels:
        container.close()
        raise _DecoderError("the audio stream has no sample rate or channels", opened=True)
    resampler = av.AudioResampler(format="flt", layout=stream.layout, rate=rate)

    def blocks() -> Iterator[np.ndarray]:
        with container:
            try:
                for packet in container.demux(stream):
                    try:
                        frames = packet.decode()
                    except av.error.InvalidDataError:
                        continue
                    for frame in frames:
                        if frame.sample_rate != rate or frame.layout.nb_channels != channels:
                            continue  # junk that parsed as a frame of another stream
                        for out in resampler.resample(frame):
                            yield out.to_ndarray().reshape(-1, channels)
            except av.error.FFmpegError as exc:
                raise _DecoderError(f"the audio is corrupt: {exc}", opened=True) from exc

    return _Stream(blocks(), rate, channels, None)


def _resample(
    blocks: Iterator[np.ndarray], rate: int, channels: int, max_frames: int
) -> tuple[np.ndarray, bool, int, bool]:
    """Resample blocks to the analysis rate, stopping after ``max_frames`` source frames.

    Returns the samples, whether the file went on past ``max_frames``, the source frames
    read, and whether the decoder failed after some audio (which is kept). Raises
    :class:`_DecoderError` if it failed before any."""
    stream = soxr.ResampleStream(rate, SAMPLE_RATE, channels, dtype="float32", quality="HQ")
    out: list[np.ndarray] = []
    taken = 0
    truncated = failed = False
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
    except _DecoderError:
        if taken == 0:
            raise
        failed = True
        out.append(stream.resample_chunk(np.zeros((0, channels), np.float32), last=True))
    finally:
        close = getattr(blocks, "close", None)
        if close is not None:
            close()
    if taken == 0:
        raise _DecoderError("the file holds no audio samples", opened=True)
    # One copy, straight into the (channels, n) layout.
    return np.concatenate([block.T for block in out], axis=1), truncated, taken, failed
