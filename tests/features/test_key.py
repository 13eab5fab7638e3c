"""Key evidence of encoded chord progressions in known keys and modes."""

from __future__ import annotations

import numpy as np
import pytest

from app.features.key import PROFILES, correlations, key_evidence
from tests.audio_fixtures import progression, write
from training.evidence import evidence_file

# MIDI notes: A minor i-iv-V-i (Am Dm E Am), C major I-IV-V-I, the same a third higher.
A_MINOR = [(57, 60, 64), (50, 53, 57, 62), (52, 56, 59, 64), (57, 60, 64)]
C_MAJOR = [(48, 52, 55, 60), (53, 57, 60), (55, 59, 62), (48, 52, 55, 60)]
E_MAJOR = [tuple(n + 4 for n in chord) for chord in C_MAJOR]


@pytest.mark.parametrize(
    ("chords", "tonic", "major", "fmt"),
    [(A_MINOR, 9, False, "mp3"), (C_MAJOR, 0, True, "flac"), (E_MAJOR, 4, True, "m4a")],
)
def test_key_and_mode_of_a_chord_progression(tmp_path, chords, tonic, major, fmt):
    path = write(tmp_path / f"chords.{fmt}", progression(chords, 1.5, 4, 44100), 44100)
    key = evidence_file(path).key
    best = key.major if major else key.minor
    assert int(np.argmax(best)) == tonic
    assert (key.mode_margin > 0) == major
    assert key.clarity > 0.6


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_a_profile_fits_itself_on_its_tonic(name):
    major, minor = PROFILES[name]
    for tonic in (0, 5, 11):
        fit = correlations(np.roll(np.asarray(major), tonic), major)
        assert int(np.argmax(fit)) == tonic
        assert fit[tonic] == pytest.approx(1.0)
    assert correlations(np.asarray(minor), minor)[0] == pytest.approx(1.0)


def test_flat_chroma_fits_no_key():
    key = key_evidence(np.ones((12, 40)))
    assert key.clarity == 0.0
    assert key.mode_margin == 0.0
