"""Synthesised test signals and their encodings in every supported format."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import av
import numpy as np
import soundfile as sf

FORMATS = ("wav", "flac", "ogg", "opus", "mp3", "m4a")
"""File extensions the service must decode."""

_SOUNDFILE = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "opus": ("OGG", "OPUS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}


def tone(freq: float, seconds: float, sr: int = 44100, amplitude: float = 0.5) -> np.ndarray:
    """A sine of ``freq`` Hz, float32."""
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def chord(freqs: tuple[float, ...], seconds: float, sr: int = 44100) -> np.ndarray:
    """Equal-amplitude sines summed to a peak below 1."""
    return (sum(tone(f, seconds, sr) for f in freqs) / len(freqs)).astype(np.float32)


def clicks(bpm: float, seconds: float, sr: int = 44100) -> np.ndarray:
    """A click track: a 10-ms decaying 1-kHz burst on every beat."""
    y = np.zeros(int(seconds * sr), np.float32)
    burst = tone(1000.0, 0.01, sr, 0.9) * np.exp(-np.linspace(0, 5, int(0.01 * sr)))
    for start in np.arange(0, seconds - 0.02, 60.0 / bpm):
        i = int(start * sr)
        y[i : i + burst.size] += burst
    return y


def metered_clicks(bpm: float, beats_per_bar: int, seconds: float, sr: int = 44100) -> np.ndarray:
    """A click track in a meter: each bar's first beat a loud low thump (60 Hz under
    800 Hz), the other beats soft 2-kHz ticks, all decaying over 80 ms."""
    y = np.zeros(int(seconds * sr), np.float32)
    n = int(0.08 * sr)
    t = np.arange(n) / sr
    decay = np.exp(-np.linspace(0, 8, n))
    downbeat = 0.6 * decay * (np.sin(2 * np.pi * 60 * t) + 0.5 * np.sin(2 * np.pi * 800 * t))
    beat = 0.2 * decay * np.sin(2 * np.pi * 2000 * t)
    for k, start in enumerate(np.arange(0, seconds - 0.1, 60.0 / bpm)):
        i = int(start * sr)
        y[i : i + n] += downbeat if k % beats_per_bar == 0 else beat
    return y


def progression(chords: list[tuple[int, ...]], seconds_each: float, repeats: int, sr: int = 44100):
    """Chords (MIDI note numbers) struck in turn, ``repeats`` times: each note a tone with
    its first four harmonics, each chord decaying over ``seconds_each``."""
    n = int(seconds_each * sr)
    t = np.arange(n) / sr
    envelope = np.minimum(1.0, t / 0.02) * np.exp(-t)
    bars = []
    for notes in chords:
        freqs = [440.0 * 2 ** ((m - 69) / 12) for m in notes]
        partials = sum(np.sin(2 * np.pi * f * h * t) / h for f in freqs for h in range(1, 5))
        bars.append(envelope * partials / len(freqs))
    return (0.3 * np.concatenate(bars * repeats)).astype(np.float32)


def spoken(text: str) -> tuple[np.ndarray, int] | None:
    """``text`` spoken by Debian's espeak-ng (samples, rate); None where it is missing."""
    if shutil.which("espeak-ng") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, capture_output=True)
        samples, sr = sf.read(wav, dtype="float32")
    return samples, sr


def noise(seconds: float, sr: int = 44100, amplitude: float = 0.1, seed: int = 0) -> np.ndarray:
    """White noise."""
    rng = np.random.default_rng(seed)
    return (amplitude * rng.standard_normal(int(seconds * sr))).astype(np.float32)


def song(seconds: float = 8.0, sr: int = 44100) -> np.ndarray:
    """A little music-like signal: a chord with a pulse over a click track and soft noise."""
    t = np.arange(int(seconds * sr)) / sr
    pulse = 0.6 + 0.4 * (np.sin(2 * np.pi * 2 * t) > 0)
    return (
        0.5 * chord((261.6, 329.6, 392.0), seconds, sr) * pulse
        + 0.3 * clicks(120, seconds, sr)
        + noise(seconds, sr, 0.02)
    ).astype(np.float32)


def encode(samples: np.ndarray, sr: int, fmt: str) -> bytes:
    """Encode ``samples`` (n,) or (n, channels) as ``fmt`` (one of :data:`FORMATS`)."""
    buffer = io.BytesIO()
    if fmt in _SOUNDFILE:
        container, subtype = _SOUNDFILE[fmt]
        if fmt == "opus" and sr not in (8000, 12000, 16000, 24000, 48000):
            raise ValueError("Opus takes 8, 12, 16, 24 or 48 kHz")
        sf.write(buffer, samples, sr, format=container, subtype=subtype)
        return buffer.getvalue()
    if fmt == "m4a":
        return _encode_aac(samples, sr)
    raise ValueError(f"unknown format {fmt}")


def _encode_aac(samples: np.ndarray, sr: int) -> bytes:
    """AAC in an MP4 container, with FFmpeg's encoder through PyAV."""
    data = samples.reshape(len(samples), -1).T.astype(np.float32)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="ipod") as container:
        stream = container.add_stream("aac", rate=sr)
        stream.layout = "mono" if data.shape[0] == 1 else "stereo"
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(data), format="fltp", layout=stream.layout.name
        )
        frame.sample_rate = sr
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def write(path: Path, samples: np.ndarray, sr: int) -> Path:
    """Encode by the extension of ``path`` and write it."""
    path.write_bytes(encode(samples, sr, path.suffix.lstrip(".")))
    return path
