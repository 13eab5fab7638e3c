"""What a search may ask beside its point: a quadrant, tempo, key, mode and energy ranges,
and a largest distance; parsed from words a person types, and applied to songs.

Tempo, key, mode and energy are columns of the audio features (``catalogue
--audio-features``; tempo also comes with ``--features``): a filter on a column the
catalogue lacks is refused with :class:`MissingColumnError`, never ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from app import table
from app.analysis import Quadrant
from app.errors import InvalidQueryError, MissingColumnError

if TYPE_CHECKING:
    from app.search.songs import Songs

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
"""Spotify's ``key`` numbering: 0 = C ... 11 = B."""

FLATS = {"Db": 1, "Eb": 3, "Gb": 6, "Ab": 8, "Bb": 10}

MODES = {"minor": 0, "major": 1}
"""Spotify's ``mode``: 1 major, 0 minor."""

AUDIO_FEATURES_HINT = "score the catalogue with music-emotion catalogue --audio-features"


def parse_key(text: str) -> int:
    """A pitch class: its number 0-11 or its name (``C``, ``F#``, ``Bb``)."""
    word = text.strip()
    if word.isdigit() and 0 <= int(word) <= 11:
        return int(word)
    name = word[:1].upper() + word[1:]
    if name in PITCH_CLASSES:
        return PITCH_CLASSES.index(name)
    if name in FLATS:
        return FLATS[name]
    raise InvalidQueryError(f"{text!r} is no key: give 0-11 or a name such as C, F# or Bb")


def parse_mode(text: str) -> int:
    """A mode: ``major`` or ``minor``, or Spotify's 1 or 0."""
    word = text.strip().lower()
    if word in MODES:
        return MODES[word]
    if word in ("0", "1"):
        return int(word)
    raise InvalidQueryError(f"{text!r} is no mode: give major or minor (or 1 or 0)")


def parse_quadrant(text: str) -> int:
    """A quadrant: its number 1-4 (``Q1``...), its name (``calm/relaxed``) or either of
    its words (``calm``)."""
    word = text.strip().lower().removeprefix("q")
    if word in ("1", "2", "3", "4"):
        return int(word)
    for quadrant in Quadrant:
        if word == quadrant.value or word in quadrant.value.split("/"):
            return quadrant.number
    names = ", ".join(q.value for q in Quadrant)
    raise InvalidQueryError(f"{text!r} is no quadrant: give 1-4 or one of {names}")


@dataclass(frozen=True)
class Filters:
    """Conditions a song must meet; None leaves a condition out.

    Attributes
    ----------
    quadrant : 1-4 (:attr:`app.analysis.Quadrant.number`)
    tempo_min, tempo_max : BPM, inclusive
    key : pitch class 0-11
    mode : 1 major, 0 minor
    energy_min, energy_max : in [0, 1], inclusive
    within : largest distance in the plane from the query's point
    """

    quadrant: int | None = None
    tempo_min: float | None = None
    tempo_max: float | None = None
    key: int | None = None
    mode: int | None = None
    energy_min: float | None = None
    energy_max: float | None = None
    within: float | None = None

    def __post_init__(self) -> None:
        for low, high, name in (
            (self.tempo_min, self.tempo_max, "tempo"),
            (self.energy_min, self.energy_max, "energy"),
        ):
            if low is not None and high is not None and low > high:
                raise InvalidQueryError(f"the {name} range is empty: {low} > {high}")
        if self.quadrant is not None and self.quadrant not in (1, 2, 3, 4):
            raise InvalidQueryError(f"quadrant {self.quadrant} is not one of 1-4")
        if self.key is not None and not 0 <= self.key <= 11:
            raise InvalidQueryError(f"key {self.key} is not a pitch class 0-11")
        if self.mode is not None and self.mode not in (0, 1):
            raise InvalidQueryError(f"mode {self.mode} is neither 1 (major) nor 0 (minor)")
        if self.within is not None and self.within < 0:
            raise InvalidQueryError("within must not be negative")

    def mask(self, songs: Songs, point: tuple[float, float] | None) -> np.ndarray | None:
        """Which songs meet every condition; None if there is none to meet.

        Raises
        ------
        MissingColumnError
            For a condition on a column the catalogue does not have.
        InvalidQueryError
            For ``within`` without a point.
        """
        keep: np.ndarray | None = None

        def meet(condition: np.ndarray) -> None:
            nonlocal keep
            keep = condition if keep is None else keep & condition

        if self.quadrant is not None:
            meet(songs.quadrant == self.quadrant)
        if self.tempo_min is not None or self.tempo_max is not None:
            meet(_within(tempo_column(songs), self.tempo_min, self.tempo_max))
        if self.key is not None:
            meet(_column(songs, table.KEY) == self.key)
        if self.mode is not None:
            meet(_column(songs, table.MODE) == self.mode)
        if self.energy_min is not None or self.energy_max is not None:
            meet(_within(_column(songs, table.ENERGY), self.energy_min, self.energy_max))
        if self.within is not None:
            if point is None:
                raise InvalidQueryError("within needs a point: give valence and arousal")
            distance = np.hypot(songs.valence - point[0], songs.arousal - point[1])
            meet(distance <= self.within)
        return keep


def tempo_column(songs: Songs) -> np.ndarray:
    """The songs' tempo (BPM): the audio features' ``tempo``, else the feature summary's."""
    for name in table.TEMPO_COLUMNS:
        if name in songs.numbers:
            return songs.numbers[name]
    raise MissingColumnError(
        f"this catalogue has no tempo column: {AUDIO_FEATURES_HINT} (or --features)"
    )


def _column(songs: Songs, name: str) -> np.ndarray:
    if name not in songs.numbers:
        raise MissingColumnError(f"this catalogue has no {name} column: {AUDIO_FEATURES_HINT}")
    return songs.numbers[name]


def _within(values: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
    """``low <= values <= high`` (an absent bound is no bound); NaN never qualifies."""
    keep = ~np.isnan(values)
    if low is not None:
        keep &= values >= low
    if high is not None:
        keep &= values <= high
    return keep
