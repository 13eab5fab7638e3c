"""The catalogue's table as its readers see it: column names, and the song's sound.

The catalogue job (:mod:`app.catalogue`) writes the table and the query layer
(:mod:`app.search`) reads it; both stand on this module, so neither imports the other.
It names the columns and computes the one column that is not the API's answer: the
song's *sound*, a compact description of how it sounds, which similarity reads. It
needs neither pyarrow nor the web framework.
"""

from __future__ import annotations

import numpy as np

from app.model import MOODS

PATH = "path"
MODIFIED = "modified"
VALENCE = "valence"
AROUSAL = "arousal"
QUADRANT = "quadrant"
DURATION = "duration_s"
ERROR_TYPE = "error_type"

SOUND = "sound"
"""The song's sound: :data:`SOUND_SIZE` float32 values (:func:`sound_of`)."""

SOUND_SIZE = 200
"""Values in the sound column: musicnn's penultimate layer (``Features.embedding``)."""

SOUND_SOURCE = "MSD_musicnn penultimate layer (200 units), mean over the song's 3-s patches"
"""What the sound column holds, written into the column's Parquet metadata."""

MOOD_PREFIX = "mood_"
MOOD_COLUMNS = {mood: f"{MOOD_PREFIX}{mood}" for mood in MOODS}
"""Each GEMS mood's share column (present when the model has a mood head)."""

TEMPO_COLUMNS = ("tempo", "tempo_bpm")
"""Where a song's tempo (BPM) may be, in order of preference: the audio features'
``tempo`` (``catalogue --audio-features``) or the feature summary's ``tempo_bpm``
(``catalogue --features``)."""

KEY = "key"
MODE = "mode"
ENERGY = "energy"
"""Spotify-style audio features (``catalogue --audio-features``): ``key`` a pitch class
0-11 (-1 none found), ``mode`` 1 major 0 minor, ``energy`` in [0, 1]."""

SPOTIFY_VALENCE = "spotify_valence"
"""The audio features' valence (0 to 1, Spotify's scale); every other audio feature's
column has its Spotify name, but ``valence`` is the emotion's (-1 to 1)."""


def audio_feature_column(name: str) -> str:
    """The column of the audio feature ``name`` (a field of Spotify's object)."""
    return SPOTIFY_VALENCE if name == VALENCE else name


def sound_of(embedding: np.ndarray | None) -> np.ndarray | None:
    """A song's sound: the mean of its patches' embeddings, float32 (:data:`SOUND_SIZE`);
    of a song longer than a minute, of the patches of the windows it is read through.

    The mean, not more: on the shared songs its nearest neighbours agree with the
    song's genre and quadrant as often as those of richer descriptions
    (``benchmarks/search_quality.py``). None when the analysis computed no embedding
    (a model that does not read musicnn).
    """
    if embedding is None:
        return None
    return np.asarray(embedding, dtype=np.float32).mean(axis=0)
