"""Apparent hardness: attack bandwidth, attack centroid, mid-band level, percussiveness, attack.

Port of ``Timbral_Hardness`` from the AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0,
Andy Pearce, University of Surrey).

The costly frame analyses (onset strength, harmonic-percussive separation, bandwidth) run
on :func:`.prepare.half_rate` audio with the reference's frame lengths and hops halved: the
same frames in time, delayed by ``NPERSEG`` samples at 44.1 kHz where the reference delays
by ``NPERSEG + 1`` (so that the onset strength is the other descriptors' one, delayed). The
envelope, attack times and attack centroids stay at 44.1 kHz: the centroid of an unwindowed
segment includes its leakage above 11 kHz, and attack times are counted in samples.

Known approximations, measured on the 40 reference clips (``tests/features/test_timbre.py``):
the percussive ratio is taken over excerpts covering a sixth of a long song (see
:func:`.spectrum.percussive_ratio`), the bandwidth curve has a frame every 512 samples
at 44.1 kHz (11.6 ms) where the reference has one every 128, and the mid-band level reads
every sixth loudness window (:data:`.loudness_model.WINDOW_STRIDE`). Together they move
hardness by 0.21 points on average (at most 0.71) from the whole computation.
"""

import numpy as np

from app.features.timbre.bark import weighted_bark_level
from app.features.timbre.envelope import (
    ONSET_DELAY_HOPS,
    ONSET_HOP,
    at_rate,
    attack_time,
    detect_onsets,
    onset_strength,
    sample_and_hold_envelope,
)
from app.features.timbre.prepare import half_rate
from app.features.timbre.spectrum import bandwidth_array, percussive_ratio, spectral_centroid

_COEFFICIENTS = np.array(
    [
        12.079781720638145,
        18.52100377170042,
        14.139883645260355,
        5.567690321917516,
        3.9346817690405635,
        -4.326890461087848,
        -85.60352209068202,
    ]
)

NPERSEG = 4096
"""Bandwidth frame length (samples at 44.1 kHz); the signal is also delayed by about as many
zeros, as in the reference, so that onsets at the very start have a full frame before them."""

BANDWIDTH_STEP = 512
"""Hop (samples at 44.1 kHz) of the bandwidth frames: four times the reference's 128, for a
quarter of the transforms (11.6 ms, still 8 frames per 100-ms attack)."""


def hardness(
    audio: np.ndarray,
    fs: float,
    max_attack_time: float = 0.1,
    bandwidth_thresh_db: float = -75,
) -> float:
    """Apparent hardness of prepared audio (see :func:`.prepare.prepare`) at ``fs`` Hz,
    about 0-100.

    Parameters
    ----------
    max_attack_time
        Longest attack time (s) considered.
    bandwidth_thresh_db
        Magnitude threshold (dB) of the bandwidth's roll-off frequency.
    """
    _, midband_level = weighted_bark_level(audio, fs, 70, 140)
    low, low_fs = half_rate(audio, fs)
    hp_ratio = percussive_ratio(low, low_fs)

    padded = np.concatenate((np.zeros(NPERSEG + 1), audio))
    low_padded = np.concatenate((np.zeros(at_rate(NPERSEG + 1, low_fs)), low))
    # The envelope starts from zero, so the delay only prepends zeros (shared with warmth).
    envelope = np.concatenate(
        (np.zeros(NPERSEG + 1), sample_and_hold_envelope(audio, fs, decay_time=0.1))
    )
    strength = onset_strength(low, low_fs, delay_hops=ONSET_DELAY_HOPS)
    onsets = detect_onsets(padded, envelope, fs, nperseg=NPERSEG, strength=strength)
    # A single onset is moved to the start of the file.
    if len(onsets) == 1:
        onsets = [0]

    bandwidth = bandwidth_array(
        low_padded,
        low_fs,
        nperseg=at_rate(NPERSEG, low_fs),
        overlap_step=at_rate(BANDWIDTH_STEP, low_fs),
        rolloff_thresh=10 ** (bandwidth_thresh_db / 20.0),
    )
    bandwidth_fs = fs / float(BANDWIDTH_STEP)
    max_attack_frames = int(max_attack_time * bandwidth_fs)
    bandwidth_onsets = np.maximum(np.asarray(onsets) - NPERSEG, 0) // BANDWIDTH_STEP

    bandwidth_max, bandwidth_strength, max_strength, log_attack, centroids = [], [], [], [], []
    centroid_samples = int(0.125 * fs)
    for i, onset in enumerate(onsets):
        last = i == len(onsets) - 1
        strength_seg = strength[onset // ONSET_HOP : None if last else onsets[i + 1] // ONSET_HOP]
        max_strength.append(np.max(strength_seg))

        # Widest bandwidth during the attack of the bandwidth curve.
        b_start = bandwidth_onsets[i]
        b_end = None if b_start == bandwidth_onsets[-1] else bandwidth_onsets[i + 1]
        b_seg = bandwidth[b_start:b_end]
        b_attack = None
        if np.max(b_seg) > 0:
            b_attack = attack_time(b_seg, bandwidth_fs, "fixed_threshold", 8, 3, max_attack_time)
        if b_attack is not None:
            start = b_attack[1]
            # The reference's test, kept as is: it compares the remaining length with the
            # attack's end index rather than its length.
            limited = max_attack_time > 0 and len(b_seg) - start > start + max_attack_frames
            stop = start + max_attack_frames if limited else None
            bandwidth_max.append(np.max(b_seg[start:stop]))
            bandwidth_strength.append(max_strength[-1])

        # Attack time of the envelope and spectral centroid of the 125 ms from its start.
        end = None if last else onsets[i + 1]
        attack = attack_time(envelope[onset:end], fs, max_attack_time=max_attack_time)
        if attack is None:
            continue
        log_attack.append(attack[0])
        segment = padded[onset:end][attack[1] : attack[1] + centroid_samples]
        if len(segment) > 512:
            centroid = spectral_centroid(segment, fs)
            if centroid is not None:
                centroids.append(centroid)

    weighted_bandwidth = 0.0
    if bandwidth_max:
        weighted_bandwidth = np.average(bandwidth_max, weights=bandwidth_strength)
    if weighted_bandwidth <= 512.0:
        weighted_bandwidth = fs / 512.0
    attack_centroid = max(np.mean(centroids), 200.0) if centroids else 200.0

    features = np.array(
        [
            np.log10(weighted_bandwidth),
            np.log10(attack_centroid),
            np.log10(midband_level),
            np.log10(hp_ratio),
            np.log10(np.mean(max_strength)),
            np.mean(log_attack),
            1.0,
        ]
    )
    return float(features @ _COEFFICIENTS)
