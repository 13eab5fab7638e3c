"""Apparent warmth: spectral centroid, warmth-region and high-frequency loudness, HF decay.

Port of ``Timbral_Warmth`` from the AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0, Andy
Pearce, University of Surrey).

Known deviations: the linear fit of the high-frequency decay is closed-form least squares
instead of scikit-learn's (same R²); a note whose spectrum has no contrasted peak, where the
reference fails, takes its strongest bin as the fundamental. The onset strength comes from
:func:`.prepare.half_rate` audio (see :func:`.envelope.onset_strength`). The note features
are averaged over every other note (:data:`NOTE_STRIDE`) and the loudness terms over every
sixth window (:data:`.loudness_model.WINDOW_STRIDE`): over the reference clips, warmth moves
by 0.29 points on average (at most 1.44) from the whole computation.
"""

from functools import lru_cache

import numpy as np
from scipy.signal import get_window

from app.features.timbre.bark import bark_weights
from app.features.timbre.envelope import detect_onsets, onset_strength, sample_and_hold_envelope
from app.features.timbre.loudness_model import windowed_specific_loudness
from app.features.timbre.peaks import detect_peaks
from app.features.timbre.prepare import half_rate

_COEFFICIENTS = np.array(
    [
        -4.464258317026696,
        -0.08819320850778556,
        0.29156539973575546,
        17.274733561081554,
        8.403340066029507,
        45.21212125085579,
    ]
)

_WARM_REGION = bark_weights(10, 40)
_HIGH_REGION = bark_weights(80, 240)

NPERSEG = 4096
"""Onsets that walk back to within this many samples of the start become sample 0."""

NOTE_STRIDE = 2
"""Only every this many-th note's spectrum is analysed (the reference analyses every note):
the note features are averaged over the notes, and each note costs 8192-point transforms."""


def note_spectrum(
    segment: np.ndarray, fs: float, n_fft: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """Long-term power spectrum of a note, scaled to a peak of 1.

    Sum over frames of ``scipy.signal.spectrogram(segment, fs, nperseg=min(len, n_fft),
    nfft=n_fft)``: Tukey(0.25) window, 1/8 overlap, mean removed, one-sided density.

    Returns
    -------
    freq, spec
    """
    nperseg = min(len(segment), n_fft)
    window = _tukey(nperseg)
    frames = np.lib.stride_tricks.sliding_window_view(segment, nperseg)[:: nperseg - nperseg // 8]
    frames = (frames - frames.mean(axis=1, keepdims=True)) * window
    spec = (np.abs(np.fft.rfft(frames, n_fft, axis=1)) ** 2).sum(axis=0) / (fs * np.sum(window**2))
    spec[1:-1] *= 2
    return np.fft.rfftfreq(n_fft, 1.0 / fs), spec / np.max(spec)


@lru_cache(maxsize=8)
def _tukey(length: int) -> np.ndarray:
    return get_window(("tukey", 0.25), length)


def warmth(
    audio: np.ndarray, fs: float, max_fft_frame_size: int = 8192, max_wr: float = 12000
) -> float:
    """Apparent warmth of prepared audio (see :func:`.prepare.prepare`) at ``fs`` Hz,
    about 0-100.

    Parameters
    ----------
    max_fft_frame_size
        Frame length of each note's spectrum.
    max_wr
        Highest upper edge (Hz) of the warmth region.
    """
    loudness = windowed_specific_loudness(audio, fs)
    mean_warm_region = np.mean(loudness.n_single @ _WARM_REGION)
    weighted_high = np.average(loudness.n_single @ _HIGH_REGION, weights=loudness.rms)

    envelope = sample_and_hold_envelope(audio, fs, decay_time=0.1)
    # The onset strength from the half-rate audio has the same frames (see .envelope).
    strength = onset_strength(*half_rate(audio, fs))
    onsets = detect_onsets(audio, envelope, fs, nperseg=NPERSEG, strength=strength)
    # A single onset is moved to the start of the file.
    if len(onsets) == 1:
        onsets = [0]

    rms, low_ratio, centroid, decay_score = [], [], [], []
    for i, onset in enumerate(onsets):
        if i % NOTE_STRIDE:
            continue
        segment = audio[onset : None if onset == onsets[-1] else onsets[i + 1]]
        rms.append(np.sqrt(np.mean(segment * segment)))
        freq, spec = note_spectrum(segment, fs, max_fft_frame_size)

        peak_idx, _, peak_freq = detect_peaks(spec, freq=freq, fs=fs)
        if len(peak_idx):
            fundamental, fundamental_idx = np.min(peak_freq), int(np.min(peak_idx))
        else:
            fundamental_idx = int(np.argmax(spec))
            fundamental = freq[fundamental_idx]

        # Share of energy from the fundamental up to 260 Hz, for low fundamentals only.
        if fundamental < 260:
            top = int(np.flatnonzero(freq > 260)[0])
            low_ratio.append(np.sum(spec[fundamental_idx:top]) / np.sum(spec))
        else:
            low_ratio.append(0.0)
        centroid.append(np.sum(freq * spec) / np.sum(spec))

        # How well a straight line fits the log-log spectrum above the warmth region.
        upper = min(fundamental * 3.5, max_wr)
        above = int(np.flatnonzero(freq > upper)[0])
        decay_score.append(_r_squared(np.log10(freq[above:]), np.log10(spec[above:])))

    features = np.array(
        [
            np.log10(np.mean(centroid)),
            weighted_high,
            mean_warm_region,
            np.mean(decay_score),
            np.average(low_ratio, weights=rms),
            1.0,
        ]
    )
    return float(features @ _COEFFICIENTS)


def _r_squared(x: np.ndarray, y: np.ndarray) -> float:
    """Coefficient of determination of the least-squares line through (x, y)."""
    xc, yc = x - x.mean(), y - y.mean()
    slope = np.dot(xc, yc) / np.dot(xc, xc)
    residual = yc - slope * xc
    return float(1.0 - np.dot(residual, residual) / np.dot(yc, yc))
