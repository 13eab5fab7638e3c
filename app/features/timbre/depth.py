"""Apparent depth: low-frequency centroid and energy ratio, note decay time, lowest pitch.

Port of ``Timbral_Depth`` from the AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0, Andy
Pearce, University of Surrey).

Known deviations: everything runs on :func:`.prepare.half_rate` audio with every length the
reference counts in samples halved (the same frames in time and frequency bins; the Hamming
window leaks little into the empty octave above 11 kHz). The three repeated second-order
Butterworth high-passes run as one cascade of second-order sections
(:func:`.filters.cascade`, equal to three ``lfilter`` passes up to rounding; brightness
high-passes the same audio at the same 20 Hz and shares it); the two low-passed copies'
spectrograms are the high-passed one times the low-passes' power gains
(:func:`.filters.cascade_power_response`), their impulse responses being short next to the
frames, and only their per-frame sums are kept (:func:`spectrogram_sums`). The onset
strength is that of the unfiltered audio (see :func:`.envelope.onset_strength`), which the
other descriptors share.
"""

import numpy as np
import scipy.fft
from scipy.signal import get_window

from app.features.timbre.envelope import (
    at_rate,
    detect_onsets,
    onset_strength,
    rms_envelope,
    sample_and_hold_envelope,
)
from app.features.timbre.filters import cascade, cascade_power_response
from app.features.timbre.peaks import detect_peaks
from app.features.timbre.prepare import half_rate

# fmt: off
_COEFFICIENTS = np.array([-0.0043703565847874465, 32.83743202462131, 4.750862716905235,
                          -14.217438690256062, 3.8782339862813924, -0.8544826091735516,
                          66.69534393444391])
# fmt: on

N_FFT = 4096
"""Spectrogram frame length (samples at 44.1 kHz); the reference passes ``3 * nfft / 4`` as
the overlap, so its frames advance by a quarter of it; here they advance by half of it, for
half the transforms (the spectrogram is only read through weighted means over the frames and
its total per bin; depth moves by 0.01 points on average over the reference clips)."""

RMS_STEP = 256
"""Frame length and hop (samples at 44.1 kHz) of the RMS envelope of the decays."""


def spectrogram_sums(
    audio: np.ndarray, fs: float, weights: np.ndarray, n_fft: int = N_FFT
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted sums over the bins of each frame of a power spectrogram, and its total over
    the frames in each bin.

    The spectrogram is ``scipy.signal.spectrogram(audio, fs, 'hamming', n_fft,
    n_fft // 2, n_fft, 'constant', True, 'spectrum')`` (one-sided power of
    Hamming-windowed, mean-removed frames, including the single-frame form for signals no
    longer than ``n_fft``), transformed in float32. It is reduced a block of frames at a
    time, in float64, and never stored whole.

    Parameters
    ----------
    weights
        Shape (n_fft // 2 + 1, k): the frame sums to take.

    Returns
    -------
    frame_sums, bin_totals
        Shapes (n_frames, k) and (n_fft // 2 + 1,).
    """
    audio = np.asarray(audio, dtype=np.float32)
    if len(audio) > n_fft:
        nperseg, hop = n_fft, n_fft // 2
    else:
        nperseg, hop = len(audio), 1
    window = get_window("hamming", nperseg).astype(np.float32)
    # The spectrum scaling and the one-sided doubling, per bin.
    scale = np.full(n_fft // 2 + 1, 2.0 / float(window.sum()) ** 2)
    scale[[0, -1] if n_fft % 2 == 0 else [0]] /= 2
    frames = np.lib.stride_tricks.sliding_window_view(audio, nperseg)[::hop]
    frame_sums = np.empty((len(frames), weights.shape[1]))
    bin_totals = np.zeros(n_fft // 2 + 1)
    scaled_weights = weights * scale[:, None]
    # Small blocks of frames stay in cache through the detrend, window, transform and sums.
    for start in range(0, len(frames), 32):
        block = frames[start : start + 32]
        block = scipy.fft.rfft((block - block.mean(axis=1, keepdims=True)) * window, n_fft)
        power = (block.real**2 + block.imag**2).astype(np.float64)
        frame_sums[start : start + len(power)] = power @ scaled_weights
        bin_totals += power.sum(axis=0)
    return frame_sums, bin_totals * scale


def depth(
    audio: np.ndarray,
    fs: float,
    threshold_db: float = -60,
    low_frequency_limit: float = 20,
    centroid_crossover_frequency: float = 2000,
    ratio_crossover_frequency: float = 500,
    db_decay_threshold: float = -40,
) -> float:
    """Apparent depth of prepared audio (see :func:`.prepare.prepare`) at ``fs`` Hz,
    about 0-100.

    Parameters
    ----------
    threshold_db
        Frame power (dB) below which a frame counts as silent.
    low_frequency_limit
        Cut-off (Hz) of the 18 dB/octave high-pass applied first.
    centroid_crossover_frequency
        Cut-off (Hz) of the low-pass before the lower spectral centroid.
    ratio_crossover_frequency
        Cut-off (Hz) of the low-pass before the low-frequency energy ratio.
    db_decay_threshold
        Level (dB below each note's peak RMS) that ends the note's decay.
    """
    # The onset strength of the unfiltered audio, shared with the other descriptors: the
    # high-pass and the gain change the lowest of its 128 mel bands and its dB offset only.
    audio, fs = half_rate(audio, fs)
    strength = onset_strength(audio, fs)
    audio = cascade(audio, low_frequency_limit, fs, "high")
    audio = audio / np.max(np.abs(audio))

    n_fft = at_rate(N_FFT, fs)
    freq = np.fft.rfftfreq(n_fft, 1.0 / fs)
    # The low-passed signals' spectrograms: the filters' power gains applied bin by bin.
    centroid_gain = cascade_power_response(freq, centroid_crossover_frequency, fs, "low")
    ratio_gain = cascade_power_response(freq, ratio_crossover_frequency, fs, "low")
    weights = np.stack((np.ones_like(freq), centroid_gain * freq, centroid_gain, ratio_gain), 1)
    frame_sums, total = spectrogram_sums(audio, fs, weights, n_fft)
    tpower, centroid_moment, centroid_power, ratio_power = frame_sums.T

    # Metrics 1 and 2: power-weighted lower centroid and low-frequency ratio of active frames.
    active = tpower > 10 ** (threshold_db / 20.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower_centroid = np.where(active, centroid_moment / centroid_power, 0.0)
        lower_ratio = np.where(active, ratio_power / tpower, 0.0)
    centroid = min(np.average(lower_centroid, weights=tpower), float(centroid_crossover_frequency))
    ratio = np.average(lower_ratio, weights=tpower)

    # Metric 3: mean time each note's RMS takes to fall below the decay threshold.
    envelope = sample_and_hold_envelope(audio, fs)
    rms_step = at_rate(RMS_STEP, fs)
    onsets = np.asarray(detect_onsets(audio, envelope, fs, strength=strength)) // rms_step
    rms = rms_envelope(audio, step_size=rms_step, overlap_step=rms_step)
    decay_threshold = 10 ** (db_decay_threshold / 20.0)
    durations = []
    for i, onset in enumerate(onsets):
        segment = rms[onset : None if onset == onsets[-1] else onsets[i + 1]]
        post_peak = segment[np.argmax(segment) :]
        below = np.flatnonzero(post_peak < decay_threshold)
        durations.append((below[0] if below.size else len(post_peak)) * rms_step / fs)
    duration = np.log10(np.mean(durations))

    # Metric 4: log frequency of the lowest peak of the long-term spectrum.
    norm = (total - total.min()) / (total.max() - total.min())
    _, _, peak_freq = detect_peaks(norm, cthr=0.01, unprocessed_array=norm, freq=freq)
    pitch = np.log10(np.min(peak_freq)) if peak_freq[0] > 0 else 0.0

    sigmoid = ratio**10 / (ratio**10 + 0.2)
    features = np.array(
        [centroid, ratio, duration, pitch, ratio * duration, sigmoid * duration, 1.0]
    )
    return float(features @ _COEFFICIENTS)
