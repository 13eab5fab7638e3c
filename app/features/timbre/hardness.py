"""Apparent hardness: attack bandwidth, attack centroid, mid-band level, percussiveness, attack.

Port of ``Timbral_Hardness`` from the AudioCommons ``timbral_models`` 0.4.0 (Apache-2.0,
Andy Pearce, University of Surrey).
"""

import numpy as np

from app.features.timbre.bark import weighted_bark_level
from app.features.timbre.envelope import (
    ONSET_HOP,
    attack_time,
    detect_onsets,
    onset_strength,
    sample_and_hold_envelope,
)
from app.features.timbre.spectrum import bandwidth_array, percussive_ratio, spectral_centroid

_COEFFICIENTS = np.array([12.079781720638145, 18.52100377170042, 14.139883645260355,
                          5.567690321917516, 3.9346817690405635, -4.326890461087848,
                          -85.60352209068202])

NPERSEG = 4096
"""Bandwidth frame length; the signal is also delayed by ``NPERSEG + 1`` zeros, as in the
reference, so that onsets at the very start have a full frame before them."""

BANDWIDTH_STEP = 128
"""Hop (samples) of the bandwidth frames."""


def hardness(
    audio: np.ndarray,
    fs: float,
    max_attack_time: float = 0.1,
    bandwidth_thresh_db: float = -75,
) -> float:
    """Apparent hardness of prepared audio (see :func:`.prepare.prepare`), about 0-100.

    Parameters
    ----------
    audio
        Prepared samples.
    fs
        Sample rate in Hz.
    max_attack_time
        Longest attack time (s) considered.
    bandwidth_thresh_db
        Magnitude threshold (dB) of the bandwidth's roll-off frequency.
    """
    _, midband_level = weighted_bark_level(audio, fs, 70, 140)
    hp_ratio = percussive_ratio(audio)

    padded = np.concatenate((np.zeros(NPERSEG + 1), audio))
    envelope = sample_and_hold_envelope(padded, fs, decay_time=0.1)
    strength = onset_strength(padded, fs)
    onsets = detect_onsets(padded, envelope, fs, nperseg=NPERSEG, strength=strength)
    # A single onset is moved to the start of the file.
    if len(onsets) == 1:
        onsets = [0]

    bandwidth = bandwidth_array(
        padded, fs, nperseg=NPERSEG, overlap_step=BANDWIDTH_STEP,
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

    features = np.array([
        np.log10(weighted_bandwidth),
        np.log10(attack_centroid),
        np.log10(midband_level),
        np.log10(hp_ratio),
        np.log10(np.mean(max_strength)),
        np.mean(log_attack),
        1.0,
    ])
    return float(features @ _COEFFICIENTS)
