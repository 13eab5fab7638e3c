"""A corpus of awkward and hostile uploads, synthesised on the fly (no binary fixtures).

Each entry is ``name -> (bytes, expected statuses)``: one status where the answer is
well defined, several where it depends on how much a decoder can still read.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import soundfile as sf

from tests.audio_fixtures import encode, song, tone

PARTIAL = frozenset({200, 415, 422})
"""A damaged file: what is still readable is analysed, or it is refused cleanly."""


def pcm(samples: np.ndarray, sr: int, container: str = "WAV", subtype: str = "PCM_16") -> bytes:
    """``samples`` (n,) or (n, channels) written by libsndfile."""
    buffer = io.BytesIO()
    sf.write(buffer, samples, sr, format=container, subtype=subtype)
    return buffer.getvalue()


def wav_header(channels: int, rate: int, bits: int, data_bytes: int) -> bytes:
    """A canonical 44-byte PCM WAV header claiming whatever it is told."""
    block = channels * bits // 8
    fmt = struct.pack("<IHHIIHH", 16, 1, channels, rate, min(rate * block, 2**32 - 1), block, bits)
    riff = struct.pack("<I", min(36 + data_bytes, 2**32 - 1))
    return b"RIFF" + riff + b"WAVE" + b"fmt " + fmt + b"data" + struct.pack("<I", data_bytes)


def long_file(container: str, subtype: str, seconds: int, head: np.ndarray | None = None) -> bytes:
    """``seconds`` of 8-kHz mono silence (after ``head``), written a minute at a time:
    a few hundred kilobytes that decode to hours."""
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", 8000, 1, format=container, subtype=subtype) as f:
        if head is not None:
            f.write(head)
        minute = np.zeros(8000 * 60, np.float32)
        for _ in range(seconds // 60):
            f.write(minute)
    return buffer.getvalue()


def _damaged(data: bytes, seed: int) -> bytes:
    """``data`` with 200 random bytes overwritten past its first quarter."""
    rng = np.random.default_rng(seed)
    damaged = bytearray(data)
    for i in rng.integers(len(data) // 4, len(data), 200):
        damaged[i] = rng.integers(0, 256)
    return bytes(damaged)


def corpus() -> dict[str, tuple[bytes, frozenset[int]]]:
    """Every case, built in a few seconds."""
    sr = 44100
    y = song(5.0, sr)
    ok = frozenset({200})
    cases: dict[str, tuple[bytes, frozenset[int]]] = {
        "zero-length": (b"", frozenset({400})),
        "text": (b"just some words, no music\n" * 400, frozenset({415})),
        "json": (b'{"song": "not really"}', frozenset({415})),
        "png": (b"\x89PNG\r\n\x1a\n" + bytes(4000), frozenset({415})),
        "zip": (b"PK\x03\x04" + bytes(4000), frozenset({415})),
        "random-bytes": (np.random.default_rng(0).bytes(100_000), frozenset({415})),
        "too-short": (pcm(tone(440, 0.4, sr), sr), frozenset({422})),
        "silence": (pcm(np.zeros(5 * sr), sr, "FLAC"), frozenset({422})),
        "nan-samples": (pcm(np.full(3 * sr, np.nan, np.float32), sr, subtype="FLOAT"), {415}),
        "1024-channels": (wav_header(1024, 8000, 8, 1024 * 2000) + bytes(1024 * 2000), {415}),
        "hours-of-silence-flac": (long_file("FLAC", "PCM_16", 3 * 3600), frozenset({422})),
        "half-hour-of-silence-ogg": (long_file("OGG", "VORBIS", 1800), frozenset({422})),
        "header-only-wav": (wav_header(2, sr, 16, 10_000_000), frozenset({415, 422})),
        "absurd-rate-wav": (wav_header(1, 2**31 - 1, 16, 200_000) + bytes(200_000), PARTIAL),
        "clipping-pcm": (pcm(np.clip(20 * y, -1, 1), sr), ok),
        "clipping-float-8x": (pcm(8 * y, sr, subtype="FLOAT"), ok),
        "float-1e30": (pcm(1e30 * y, sr, subtype="FLOAT"), ok),
        "dc-offset": (pcm(np.full(5 * sr, 0.5), sr), ok),
        "mp3-named-wav": (encode(y, sr, "mp3"), ok),
    }
    for channels, layout in ((1, "mono"), (2, "stereo"), (6, "5.1"), (8, "7.1")):
        multi = np.stack([song(5.0, 22050)] * channels, axis=1)  # 22.05 kHz: 7.1 under 3 MB
        cases[f"{layout}-wav"] = (pcm(multi, 22050), ok)
        cases[f"{layout}-flac"] = (pcm(multi, 22050, "FLAC"), ok)
    for rate in (8000, 11025, 16000, 22050, 48000, 96000, 192000):
        cases[f"{rate}-hz"] = (pcm(song(5.0, rate), rate), ok)
    for subtype in ("PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"):
        cases[f"wav-{subtype}"] = (pcm(y, sr, subtype=subtype), ok)
    for subtype in ("PCM_S8", "PCM_24"):
        cases[f"flac-{subtype}"] = (pcm(y, sr, "FLAC", subtype), ok)
    for fmt in ("wav", "flac", "ogg", "mp3", "m4a"):
        data = encode(y, sr, fmt)
        cases[f"truncated-half-{fmt}"] = (data[: len(data) // 2], PARTIAL)
        cases[f"truncated-100-bytes-{fmt}"] = (data[:100], frozenset({415, 422}))
        cases[f"corrupt-{fmt}"] = (_damaged(data, seed=len(fmt)), PARTIAL)
        cases[f"garbage-after-header-{fmt}"] = (
            data[:64] + np.random.default_rng(1).bytes(50_000),
            PARTIAL,
        )
    return {name: (data, frozenset(expected)) for name, (data, expected) in cases.items()}
