"""Amplitude envelopes, note onsets and attack times used by the timbral descriptors.

Port of the onset machinery in ``timbral_util`` of the AudioCommons ``timbral_models`` 0.4.0
(Apache-2.0, Andy Pearce, University of Surrey).

The reference runs at 44.1 kHz and counts frames and hops in samples; here every such length
is scaled to the signal's rate (:func:`at_rate`), so the same analysis runs on the 22.05-kHz
audio :func:`.prepare.half_rate` returns (see :func:`onset_strength`).

Known deviations from the reference, none of which changes a result it can produce:
``attack_time`` returns None where the reference returns 0 (a segment whose peak is its first
sample), which the reference then fails to unpack; ``detect_onsets`` treats an onset-strength
segment that is empty as weak, where the reference fails on ``max([])``.
"""

from functools import lru_cache

import librosa
import numba
import numpy as np

from app.features.stft import n_frames, stft_blocks
from app.features.timbre.memo import PerSignal

REFERENCE_RATE = 44100
"""Rate at which the reference's frame lengths and hops (in samples) are defined."""

ONSET_HOP = 512
"""Hop length (samples at :data:`REFERENCE_RATE`) of librosa's onset strength, which the
reference assumes throughout."""

ONSET_N_FFT = 2048
"""Frame length (samples at :data:`REFERENCE_RATE`) of librosa's onset strength."""


def at_rate(samples: int, fs: float) -> int:
    """A length of ``samples`` at :data:`REFERENCE_RATE`, in samples at ``fs``."""
    return round(samples * fs / REFERENCE_RATE)


def sample_and_hold_envelope(
    audio: np.ndarray, fs: float, decay_time: float = 0.2, hold_time: float = 0.01
) -> np.ndarray:
    """Peak envelope that follows attacks instantly, holds, then decays linearly.

    Parameters
    ----------
    audio
        Samples.
    fs
        Sample rate in Hz.
    decay_time
        Time (s) the envelope takes to decay from the signal's peak level to zero.
    hold_time
        Time (s) a new peak is held before decaying.

    Returns
    -------
    envelope
        float64 array, one value per sample; remembered for a read-only ``audio`` while it
        lives (hardness and warmth use the same one).
    """
    return _envelopes.get(
        audio,
        (float(fs), float(decay_time), float(hold_time)),
        lambda: _sample_and_hold(
            np.asarray(audio, dtype=np.float64), decay_time * fs, hold_time * fs
        ),
    )


_envelopes: PerSignal[np.ndarray] = PerSignal()


@numba.njit(cache=True, nogil=True)
def _sample_and_hold(audio, decay_samples, hold_samples):  # pragma: no cover - compiled
    # A data-dependent recurrence (each output depends on the previous one and on a hold
    # counter) with no vectorised equivalent; compiled, as librosa compiles its own loops.
    peak = 0.0
    for i in range(audio.shape[0]):
        peak = max(peak, abs(audio[i]))
    decay = peak / decay_samples
    envelope = np.empty_like(audio)
    previous = 0.0
    counter = 0
    for i in range(audio.shape[0]):
        sample = abs(audio[i])
        if sample >= previous:
            previous = sample
            counter = 0
        elif counter < hold_samples:
            counter += 1
        else:
            out = previous - decay
            previous = out if out > sample else sample
        envelope[i] = previous
    return envelope


def rms_envelope(
    audio: np.ndarray, step_size: int = 256, overlap_step: int = 256, normalise: bool = True
) -> np.ndarray:
    """RMS of frames of ``step_size`` samples every ``overlap_step`` samples.

    As in the reference, frames start while a whole frame plus one sample fits, and one last
    frame covers whatever remains from the next start.

    Parameters
    ----------
    audio
        Samples.
    step_size
        Frame length in samples.
    overlap_step
        Hop between frame starts in samples.
    normalise
        Scale the envelope to a peak of 1.
    """
    audio = np.asarray(audio, dtype=np.float64)
    n_full = max(0, -(-(len(audio) - step_size) // overlap_step))
    squares = audio * audio
    if n_full:
        frames = np.lib.stride_tricks.sliding_window_view(squares, step_size)[::overlap_step]
        full = np.sqrt(frames[:n_full].mean(axis=1))
    else:
        full = np.empty(0)
    last = np.sqrt(np.mean(squares[n_full * overlap_step :]))
    envelope = np.append(full, last)
    if normalise:
        envelope = envelope / np.max(np.abs(envelope))
    return envelope


ONSET_DELAY_HOPS = 8
"""Hops of zeros hardness puts before the signal: the reference's ``4096 + 1`` samples at
44.1 kHz, rounded to whole hops so that the delayed frames are the undelayed ones."""


def onset_strength(audio: np.ndarray, fs: float, delay_hops: int = 0) -> np.ndarray:
    """librosa's default spectral-flux onset strength as the reference computes it at 44.1 kHz.

    That is ``librosa.onset.onset_strength(y=audio, sr=44100)``: 128 mel bands up to
    22.05 kHz from 2048-sample frames every 512 samples, in dB, of ``audio`` preceded by
    ``delay_hops`` hops of zeros. At a lower rate ``fs`` the frames and hop are scaled (same
    frame times, same bin frequencies), the 44.1-kHz mel filterbank is applied to the bins
    that exist and the power is scaled as the upsampled signal's would be; bands above
    ``fs / 2`` are empty at 44.1 kHz too (the audio was upsampled), so they add no flux.
    Computed in float32; for a read-only signal, the mel spectrogram and each delay's onset
    strength are shared by every call while the signal lives (read-only).
    """
    if fs > REFERENCE_RATE:
        padded = np.concatenate((np.zeros(delay_hops * ONSET_HOP), audio))
        return librosa.onset.onset_strength(y=np.asarray(padded, dtype=np.float64), sr=fs)
    n_fft, hop = at_rate(ONSET_N_FFT, fs), at_rate(ONSET_HOP, fs)

    def compute() -> np.ndarray:
        mel = _mel_powers.get(audio, float(fs), lambda: _delayed_mel_power(audio, fs, n_fft, hop))
        return librosa.onset.onset_strength(
            S=librosa.power_to_db(mel[:, ONSET_DELAY_HOPS - delay_hops :]),
            sr=fs,
            n_fft=n_fft,
            hop_length=hop,
        )

    return _strengths.get(audio, (float(fs), delay_hops), compute)


_strengths: PerSignal[np.ndarray] = PerSignal()
_mel_powers: PerSignal[np.ndarray] = PerSignal()


def _delayed_mel_power(audio: np.ndarray, fs: float, n_fft: int, hop: int) -> np.ndarray:
    """Mel power of ``audio`` preceded by :data:`ONSET_DELAY_HOPS` hops of zeros.

    Delaying by whole hops only prepends frames (centred frames see zeros before the signal
    either way), so the undelayed spectrogram is this one without its first frames.
    """
    padded = np.concatenate(
        (np.zeros(ONSET_DELAY_HOPS * hop, dtype=np.float32), np.asarray(audio, dtype=np.float32))
    )
    scale = np.float32((REFERENCE_RATE / fs) ** 2)
    weights = _reference_mel()[:, : n_fft // 2 + 1].T
    mel = np.empty((n_frames(len(padded), n_fft, hop), weights.shape[1]), dtype=np.float32)
    for first, spectra in stft_blocks(padded, n_fft, hop):
        power = spectra.real**2 + spectra.imag**2
        power *= scale
        mel[first : first + len(power)] = power @ weights
    return mel.T


@lru_cache(maxsize=1)
def _reference_mel() -> np.ndarray:
    return librosa.filters.mel(sr=REFERENCE_RATE, n_fft=ONSET_N_FFT)


def detect_onsets(
    audio: np.ndarray,
    envelope: np.ndarray,
    fs: float,
    look_back_time: float = 20,
    hysteresis_time: float = 300,
    hysteresis_percent: float = 10,
    onset_in_noise_threshold: float = 10,
    minimum_onset_time_separation: float = 100,
    nperseg: int | None = None,
    strength: np.ndarray | None = None,
) -> list[int]:
    """Note onsets: librosa's onsets, moved back to where the envelope starts rising, pruned.

    Parameters
    ----------
    audio
        Samples.
    envelope
        Envelope of ``audio``, as from :func:`sample_and_hold_envelope`.
    fs
        Sample rate in Hz.
    look_back_time
        Time (ms) searched backwards at each step for a lower envelope value.
    hysteresis_time
        Time (ms) searched backwards once no lower value is found nearby.
    hysteresis_percent
        Rise (% of the envelope's range) that separates two events in the hysteresis check.
    onset_in_noise_threshold
        Minimum rise (% of the envelope's range) between onsets for an onset to be kept.
    minimum_onset_time_separation
        Minimum time (ms) between onsets; of two closer ones the earlier is kept.
    nperseg
        Onsets that walk back to within this many samples of the start become sample 0;
        512 samples at the reference rate if None.
    strength
        :func:`onset_strength` of ``audio`` if already computed.

    Returns
    -------
    onsets
        Sorted sample indices; ``[0]`` when none is found.
    """
    if nperseg is None:
        nperseg = at_rate(512, fs)
    hop = at_rate(ONSET_HOP, fs)
    if strength is None:
        strength = onset_strength(audio, fs)
    candidates = librosa.onset.onset_detect(
        onset_envelope=strength, sr=fs, hop_length=hop, backtrack=True, units="samples"
    )
    if not np.size(candidates):
        return [0]

    time_thresh = int(look_back_time * 0.001 * fs)
    hysteresis_samples = int(hysteresis_time * fs * 0.001)
    dyn_range = np.max(envelope) - np.min(envelope)
    hysteresis_thresh = dyn_range * hysteresis_percent * 0.01

    onsets: list[int] = []
    for candidate in candidates:
        candidate = int(candidate)
        if candidate <= 0:
            onsets.append(0)
        # An onset in the last frame is only refined when it is the only one.
        elif not onsets or candidate + hop - 1 < len(envelope):
            onsets.append(
                _walk_back(
                    candidate, envelope, time_thresh, hysteresis_thresh, hysteresis_samples, nperseg
                )
            )

    # 0 marks an onset that could not be placed; only a leading 0 is genuine.
    onsets = [o for i, o in enumerate(onsets) if o != 0 or i == 0]
    onsets = list(dict.fromkeys(onsets))

    if len(onsets) > 1:
        noise_thresh = onset_in_noise_threshold * dyn_range * 0.01
        onsets = _drop_onsets_in_noise(onsets, envelope, noise_thresh)
        onsets = _drop_close_onsets(onsets, fs * 0.001 * minimum_onset_time_separation)
    onsets = _drop_weak_onsets(onsets, strength, hop)
    return sorted(onsets) if onsets else [0]


@numba.njit(cache=True, nogil=True)
def _walk_back(
    onset, envelope, time_thresh, hysteresis_thresh, hysteresis_samples, nperseg
):  # pragma: no cover - compiled
    """Move ``onset`` back to where the envelope stops falling (reference ``return_loop``).

    Compiled: a data-dependent walk, a few hundred per song, each over short stretches.
    """
    while True:
        current = envelope[onset]
        # The look-back window; the reference's index arithmetic is kept for both branches.
        lo, hi = (onset - time_thresh - 1, onset) if onset - time_thresh > 0 else (0, onset - 1)
        if hi <= lo:
            raise ValueError("no envelope before the onset")
        lowest = lo
        for i in range(lo + 1, hi):
            if envelope[i] < envelope[lowest]:
                lowest = i
        if envelope[lowest] <= current:
            # Something lower within the look-back: jump to it and look again.
            new_onset = lowest - lo + onset - time_thresh - 1
            if new_onset <= nperseg:
                return 0
            onset = new_onset
            continue
        # Nothing lower nearby: a longer look-back decides whether the rise since the last
        # lower value is a separate event.
        start = max(onset - hysteresis_samples - 1, 0)
        last_min = onset - 1
        while last_min >= start and not envelope[last_min] < current:
            last_min -= 1
        if last_min < start:
            return onset
        top = bottom = envelope[last_min]
        for i in range(last_min + 1, onset):
            top = max(top, envelope[i])
            bottom = min(bottom, envelope[i])
        if top - bottom >= hysteresis_thresh:
            return onset
        if last_min < nperseg:
            return 0
        onset = last_min


def _drop_onsets_in_noise(onsets: list[int], envelope: np.ndarray, threshold: float) -> list[int]:
    """Drop onsets whose envelope rises less than ``threshold`` before the next kept onset."""
    kept = list(onsets)
    for i in reversed(range(len(kept))):
        end = kept[i + 1] if i + 1 < len(kept) else None
        segment = envelope[kept[i] : end]
        peak = int(np.argmax(segment)) if len(segment) > 1 else 0
        if peak == 0 or segment[peak] - segment[:peak].min() < threshold:
            del kept[i]
    return kept


def _drop_close_onsets(onsets: list[int], min_separation: float) -> list[int]:
    """Repeatedly drop the later onset of every pair closer than ``min_separation`` samples."""
    kept = np.asarray(onsets)
    while len(kept) > 1 and np.diff(kept).min() < min_separation:
        too_close = np.flatnonzero(np.abs(np.diff(kept)) < min_separation) + 1
        if too_close.size == 0:
            # Only reachable with unsorted onsets, where the reference loops forever.
            break
        kept = np.delete(kept, too_close)
    return [int(o) for o in kept]


def _drop_weak_onsets(
    onsets: list[int], strength: np.ndarray, hop: int, min_strength: float = 3
) -> list[int]:
    """Keep onsets whose onset strength reaches ``min_strength`` before the next kept onset."""
    frames = [o // hop for o in onsets]
    kept = []
    for i in reversed(range(len(onsets))):
        end = frames[i + 1] if i + 1 < len(frames) else None
        segment = strength[frames[i] : end]
        if segment.size == 0 or segment.max() < min_strength:
            del frames[i]
        else:
            kept.append(onsets[i])
    return kept


def attack_time(
    envelope: np.ndarray,
    fs: float,
    calculation_type: str = "min_effort",
    thresh_no: int = 8,
    m: float = 3,
    max_attack_time: float = -1,
) -> tuple[float, int] | None:
    """Attack time of the rise to the highest point of ``envelope``.

    The attack is the part of ``envelope`` from its last minimum before the peak to the peak.

    Parameters
    ----------
    envelope
        Envelope segment (not modified).
    fs
        Sample rate of ``envelope`` in Hz.
    calculation_type
        ``'min_effort'`` (CUIDADO minimum-effort thresholds) or ``'fixed_threshold'``
        (20 % to 90 % of the attack's range).
    thresh_no
        Number of thresholds, minus one, of the minimum-effort method.
    m
        Effort multiplier of the minimum-effort method.
    max_attack_time
        Longest attack time (s); no limit when not positive.

    Returns
    -------
    log_attack_time, start
        log10 of the attack time in seconds and the index in ``envelope`` where the attack
        starts; None when the peak is the first sample.
    """
    if calculation_type not in ("min_effort", "fixed_threshold"):
        raise ValueError("calculation_type must be 'min_effort' or 'fixed_threshold'")
    step = 1.0 / (thresh_no + 2)
    unit_levels = np.linspace(step, 1 - step, thresh_no + 1)
    start, end, offset = _attack_bounds(
        np.asarray(envelope, dtype=np.float64),
        calculation_type == "min_effort",
        unit_levels,
        float(m),
    )
    if start < 0:
        return None
    seconds = 1.0 / fs if start == end else (end - start + 1.0) / fs
    if 0 < max_attack_time < seconds:
        seconds = (int(fs * max_attack_time) + 1.0) / fs
    return float(np.log10(seconds)), int(start) + int(offset)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _attack_bounds(envelope, min_effort, unit_levels, m):  # pragma: no cover - compiled
    """Start and end of the attack within its segment, and the segment's offset in
    ``envelope``, as :func:`attack_time` defines them; (-1, -1, -1) when the peak is the
    first sample. Compiled: a few passes over a long envelope segment per onset.

    The reference normalises the envelope by its peak first; a quotient equals 1 only where
    the value is the peak, so the peak is found on the envelope itself and only the part up
    to it is normalised.
    """
    top = envelope.max()
    if not top > 0:  # all zero (non-negative envelopes): the normalised envelope is NaN
        return -1, -1, -1
    peak = np.argmax(envelope)
    if peak == 0:
        return -1, -1, -1
    rise = envelope[: peak + 1] / top
    offset = 0
    for i in range(peak):  # the last lowest value before the peak
        if rise[i] <= rise[offset]:
            offset = i
    attack = rise[offset:]
    low = attack.min()
    dyn_range = attack.max() - low
    if min_effort:
        crossings = _first_crossings(attack, unit_levels * dyn_range + low)
        effort = crossings[1:] - crossings[:-1]
        effort_threshold = effort.mean() * m
        first = 0
        for k in range(len(effort)):
            if effort[k] <= effort_threshold:
                first = k
                break
        last = 0
        for k in range(first, len(effort)):
            if effort[k] >= effort_threshold:
                last = k - first
                break
        if last == 0:
            last = len(effort) - first - 1
        last += first
        start, end = crossings[first], crossings[last]
        if start == end:
            start, end = crossings[0], crossings[-1]
    else:
        bounds = _first_crossings(attack, np.array([0.2 * dyn_range + low]))
        start = bounds[0]
        end = start + _first_crossings(attack[start:], np.array([0.9 * dyn_range + low]))[0]
    return start, end, offset


@numba.njit(cache=True, nogil=True)
def _first_crossings(x, levels):  # pragma: no cover - compiled
    # np.argmax(x >= level) for each of the ascending levels: the first index where x
    # reaches it, 0 where it never does. One pass: a value reaching a level reaches every
    # lower one too.
    crossings = np.zeros(len(levels), dtype=np.int64)
    k = 0
    for i in range(len(x)):
        while k < len(levels) and x[i] >= levels[k]:
            crossings[k] = i
            k += 1
        if k == len(levels):
            break
    return crossings
