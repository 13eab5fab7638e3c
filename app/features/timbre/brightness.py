"""Apparent brightness: high-frequency energy ratio and spectral centroid, power-weighted.

Port of ``Timbral_Brightness`` from the AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0,
Andy Pearce, University of Surrey), with its default parameters.

The reference takes three power spectrograms (2048-point Hamming frames every 512 samples,
mean removed); only the centroid one needs the spectrum, so the frame powers of the
other two are summed in the time domain instead (Parseval; equal up to rounding). Scale
factors the reference applies (peak normalisation, spectrum scaling) cancel and are left out.
"""

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import get_window

from app.features.timbre.filters import cascade

_COEFFICIENTS = (4.613128018020465, 17.378889309312974, 17.434733750553022)
_NFFT = 2048
_HOP = 512  # the reference passes 3/4 * nfft as the overlap, so frames advance by nfft / 4
_CHUNK = 64  # frames per FFT batch: small enough to stay in cache


def _windowed_frames(audio: np.ndarray, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Mean-removed, Hamming-windowed frames ``start:stop`` as scipy's spectrogram makes them.

    Audio shorter than one FFT is a single frame of its own length (zero-padded by the FFT).
    """
    length = min(len(audio), _NFFT)
    frames = sliding_window_view(audio, length)[::_HOP][start:stop]
    return (frames - frames.mean(axis=1, keepdims=True)) * get_window("hamming", length)


def _n_frames(audio: np.ndarray) -> int:
    return 1 + (len(audio) - _NFFT) // _HOP if len(audio) >= _NFFT else 1


def _frame_power(audio: np.ndarray) -> np.ndarray:
    """Total spectrogram power of each frame, up to a constant factor."""
    out = np.empty(_n_frames(audio))
    for start in range(0, len(out), _CHUNK):
        frames = _windowed_frames(audio, start, start + _CHUNK)
        out[start : start + _CHUNK] = np.einsum("ij,ij->i", frames, frames)
    return out


def _frame_centroid(audio: np.ndarray, fs: int) -> tuple[np.ndarray, np.ndarray]:
    """Spectral centroid (Hz) and total power (up to a constant factor) of each frame."""
    freq = scipy.fft.rfftfreq(_NFFT, 1.0 / fs)
    # One-sided power doubles every bin but DC and Nyquist.
    weight = np.full(len(freq), 2.0)
    weight[[0, -1]] = 1.0
    moment = np.empty(_n_frames(audio))
    power = np.empty_like(moment)
    for start in range(0, len(power), _CHUNK):
        spec = scipy.fft.rfft(_windowed_frames(audio, start, start + _CHUNK), _NFFT, axis=1)
        spec = (spec.real**2 + spec.imag**2) * weight
        moment[start : start + _CHUNK] = spec @ freq
        power[start : start + _CHUNK] = spec.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return moment / power, power


def brightness(audio: np.ndarray, fs: int) -> float:
    """Apparent brightness of prepared audio (see :func:`.prepare.prepare`), about 0-100."""
    audio = cascade(audio, 20, fs, "high")
    tpower = _frame_power(audio)
    voiced = tpower > 0
    hf_power = _frame_power(cascade(audio, 2000, fs, "high"))
    ratio = np.average(hf_power[voiced] / tpower[voiced], weights=tpower[voiced])

    centroid, power = _frame_centroid(cascade(audio, 100, fs, "high"), fs)
    voiced = power > 0
    centroid = np.average(centroid[voiced], weights=power[voiced])

    return float(
        _COEFFICIENTS[0] * np.log10(ratio)
        + _COEFFICIENTS[1] * np.log10(centroid)
        + _COEFFICIENTS[2]
    )
