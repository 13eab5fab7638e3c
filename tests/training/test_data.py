"""Songs ready for fitting: windows, crops, labels, and the quadrants' signs."""

from __future__ import annotations

import numpy as np

from app.analysis import Quadrant, quadrant_numbers
from training.data import SIGNS, quadrant_signs, tag_vocabulary


def test_songs_carry_windows_crops_and_labels(songs):
    assert [len(s.windows) for s in songs[:3]] == [1, 2, 2]
    assert len(songs[2].train_pooled) > len(songs[2].windows)  # crops hop 2 s, windows 10 s
    assert songs[0].pooled.shape[0] == len(songs[0].windows)
    assert songs[0].dataset == "emotify" and np.isfinite(songs[0].gems).all()
    four = songs[12]
    assert four.dataset == "4q" and four.quadrant == 1 and np.isnan(four.target).all()
    assert four.group == "artist:a0" and four.stratum == "4q:Q1"


def test_songs_carry_tags_and_confidence(songs):
    assert songs[12].tags == ("joyous", "happy", "rare") and songs[12].confidence == 0.5
    assert songs[0].tags == () and songs[0].confidence == 1.0
    assert tag_vocabulary(songs, 4) == ("happy", "joyous", "angry", "sad", "gloomy", "calm")
    assert "rare" in tag_vocabulary(songs, 1) and tag_vocabulary(songs, 8) == ("happy",)


def test_the_signs_of_each_quadrant_follow_the_core_rule():
    assert sorted(SIGNS) == [q.number for q in Quadrant]
    for number, (valence, arousal) in SIGNS.items():
        assert quadrant_numbers(valence, arousal) == number
    assert SIGNS[Quadrant.ANGRY.number] == (-1, 1)  # 4Q's Q2: valence-, arousal+
    np.testing.assert_array_equal(quadrant_signs([4, 0]), [[1, -1], [0, 0]])
