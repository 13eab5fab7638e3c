"""Calibrated probabilities of a song's signs and quadrant, from its served valence/arousal.

The training fits, on the out-of-fold outputs of its cross-validation (4Q's songs, whose
quadrant is known), how often a sign or a quadrant shown from an output comes true, and
stores the parameters in the model card under ``calibration``; :meth:`Calibration.of_card`
reads and checks them when the model loads. The maps, with ``v`` and ``a`` a song's
served valence and arousal (the mean over its windows):

- ``P(valence > 0) = sigmoid(valence_slope * v)`` and the same for arousal: a logistic
  map without intercept, because the network was trained to put its sign boundary at 0,
  so a song on an axis gets 0.5 and the shown sign never disagrees with its probability;
- the shown quadrant (:func:`app.analysis.quadrant_numbers`) comes true with
  ``sigmoid(quadrant_slope * logit(p_v * p_a) + quadrant_intercept)``, where ``p_v``,
  ``p_a`` are the shown signs' probabilities: their product would be right if the two
  signs' errors were independent; the map corrects for how they are not.

Every slope is positive, so each probability grows with the distance from the axes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from app.errors import ModelContractError

CARD_KEY = "calibration"
"""The model card's entry holding the parameters (absent in models trained before it)."""

PARAMETERS = ("valence_slope", "arousal_slope", "quadrant_slope", "quadrant_intercept")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class Confidence:
    """How sure the model is of a song's signs and quadrant (each a probability in [0, 1]).

    Attributes
    ----------
    valence_positive, arousal_positive : float
        Probability that the song's valence (arousal) is positive.
    valence_sign, arousal_sign : float
        Probability of the shown sign (that of the output; 0 counts as positive): at least
        0.5, 0.5 on the axis.
    quadrant : float
        Probability that the shown quadrant is the song's.
    """

    valence_positive: float
    arousal_positive: float
    valence_sign: float
    arousal_sign: float
    quadrant: float


@dataclass(frozen=True)
class Calibration:
    """The card's calibration parameters (see the module's docstring for the maps)."""

    valence_slope: float
    arousal_slope: float
    quadrant_slope: float
    quadrant_intercept: float

    def __post_init__(self) -> None:
        values = [getattr(self, name) for name in PARAMETERS]
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise ModelContractError(f"calibration parameters must be finite numbers: {values}")
        if min(self.valence_slope, self.arousal_slope, self.quadrant_slope) < 0:
            raise ModelContractError("calibration slopes must be at least 0 (monotone maps)")

    @classmethod
    def of_card(cls, card: Mapping) -> Calibration | None:
        """The calibration a model card stores, None if it has none; raises
        :class:`ModelContractError` if the entry is malformed."""
        entry = card.get(CARD_KEY)
        if entry is None:
            return None
        if not isinstance(entry, Mapping) or any(name not in entry for name in PARAMETERS):
            raise ModelContractError(f"the card's {CARD_KEY} entry must hold {list(PARAMETERS)}")
        return cls(**{name: entry[name] for name in PARAMETERS})

    def parameters(self) -> dict[str, float]:
        """The parameters as the card stores them."""
        return asdict(self)

    def sign_probabilities(self, valence: np.ndarray, arousal: np.ndarray) -> np.ndarray:
        """(..., 2) probabilities that valence and arousal are positive."""
        v = self.valence_slope * np.asarray(valence, dtype=np.float64)
        a = self.arousal_slope * np.asarray(arousal, dtype=np.float64)
        return _sigmoid(np.stack([v, a], axis=-1))

    def quadrant_probability(self, valence: np.ndarray, arousal: np.ndarray) -> np.ndarray:
        """Probability that the quadrant shown for each point is its quadrant."""
        positive = self.sign_probabilities(valence, arousal)
        shown = np.maximum(positive, 1 - positive)  # the shown sign's probability
        product = shown[..., 0] * shown[..., 1]
        return _sigmoid(self.quadrant_slope * _logit(product) + self.quadrant_intercept)

    def __call__(self, valence: float, arousal: float) -> Confidence:
        """The confidence of one song from its served (window-mean) valence and arousal."""
        positive = self.sign_probabilities(valence, arousal)
        return Confidence(
            valence_positive=float(positive[0]),
            arousal_positive=float(positive[1]),
            valence_sign=float(max(positive[0], 1 - positive[0])),
            arousal_sign=float(max(positive[1], 1 - positive[1])),
            quadrant=float(self.quadrant_probability(valence, arousal)),
        )
