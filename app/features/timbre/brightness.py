"""Apparent brightness: high-frequency energy ratio and spectral centroid, power-weighted.

Port of ``Timbral_Brightness`` from the AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0,
Andy Pearce, University of Surrey), with its default parameters.

The reference high-passes the audio at 20 Hz, then takes power spectrograms (2048-point
Hamming frames every 512 samples, mean removed) of it and of two further high-passed copies
(2 kHz, 100 Hz). Here there is one spectrogram, and the further filters are applied as their
power gains bin by bin (their impulse responses are short next to the frames). Scale factors
the reference applies (peak normalisation, spectrum scaling) cancel and are left out.

Everything runs on :func:`.prepare.half_rate` audio with frame length and hop halved (the same
frames in time and frequency bins); the Hamming window leaks little into the empty octave
above 11 kHz. Spectra are computed in float32.
"""

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import get_window

from app.features.timbre.envelope import at_rate
from app.features.timbre.filters import cascade, cascade_power_response
from app.features.timbre.prepare import half_rate

_COEFFICIENTS = (4.613128018020465, 17.378889309312974, 17.434733750553022)
_NFFT = 2048  # samples at 44.1 kHz
_CHUNK = 64  # frames per FFT batch: small enough to stay in cache


def _windowed_frames(
    audio: np.ndarray, nfft: int, window: np.ndarray, start: int = 0, stop: int | None = None
) -> np.ndarray:
    """Mean-removed, Hamming-windowed frames ``start:stop`` as scipy's spectrogram makes them.

    The reference passes 3/4 * nfft as the overlap, so frames advance by nfft / 4. Audio
    shorter than one FFT is a single frame of its own length (zero-padded by the FFT).
    """
    frames = sliding_window_view(audio, len(window))[:: nfft // 4][start:stop]
    return (frames - frames.mean(axis=1, keepdims=True)) * window


def _n_frames(audio: np.ndarray, nfft: int) -> int:
    return 1 + (len(audio) - nfft) // (nfft // 4) if len(audio) >= nfft else 1


def brightness(audio: np.ndarray, fs: int) -> float:
    """Apparent brightness of prepared audio (see :func:`.prepare.prepare`), about 0-100."""
    audio, fs = half_rate(audio, fs)
    audio = cascade(audio, 20, fs, "high")
    nfft = at_rate(_NFFT, fs)
    freq = scipy.fft.rfftfreq(nfft, 1.0 / fs)
    # One-sided power doubles every bin but DC and Nyquist.
    one_sided = np.full(len(freq), 2.0)
    one_sided[[0, -1]] = 1.0
    # Power gains of the reference's further high-passes, per bin: the total power, the
    # power above 2 kHz, and the power and first moment above 100 Hz.
    hf_gain = cascade_power_response(freq, 2000, fs, "high")
    centroid_gain = cascade_power_response(freq, 100, fs, "high")
    weights = (
        one_sided * np.stack((np.ones_like(freq), hf_gain, centroid_gain, centroid_gain * freq))
    ).T.astype(np.float32)

    audio = audio.astype(np.float32)
    window = get_window("hamming", min(len(audio), nfft)).astype(np.float32)
    sums = np.empty((_n_frames(audio, nfft), 4))
    for start in range(0, len(sums), _CHUNK):
        spec = scipy.fft.rfft(_windowed_frames(audio, nfft, window, start, start + _CHUNK), nfft)
        sums[start : start + _CHUNK] = (spec.real**2 + spec.imag**2) @ weights
    tpower, hf_power, power, moment = sums.T

    voiced = tpower > 0
    ratio = np.average(hf_power[voiced] / tpower[voiced], weights=tpower[voiced])
    voiced = power > 0
    centroid = np.average(moment[voiced] / power[voiced], weights=power[voiced])

    return float(
        _COEFFICIENTS[0] * np.log10(ratio)
        + _COEFFICIENTS[1] * np.log10(centroid)
        + _COEFFICIENTS[2]
    )
