"""The fixed analysis configuration shared by training and serving."""

from dataclasses import asdict, dataclass

from app.audio import SAMPLE_RATE

__all__ = ["DEFAULT_CONFIG", "SAMPLE_RATE", "FeatureConfig"]


@dataclass(frozen=True)
class FeatureConfig:
    """How audio becomes model inputs; a model card records it and must match it.

    The frame-level features use an STFT of ``n_fft`` samples every ``hop_length``
    samples; ``frames_per_step`` consecutive frames are averaged into one time step,
    and ``n_steps`` steps form one analysis window (20 s with the defaults). Windows
    start every ``window_hop_s`` seconds.

    The song-level descriptors (the timbral models and the tempo) read at most
    ``descriptor_budget_s`` seconds of a song: a longer song is sampled by
    ``descriptor_excerpts`` evenly spaced excerpts that share the budget (see
    :func:`app.features.budget.descriptor_spans`), so its cost is bounded. A song with
    more than ``max_windows`` windows is read through that many, evenly spread from its
    start to its end (:func:`app.features.budget.excerpt_starts`): its frame-level
    features and embedding are computed there only, so its cost is bounded too.
    """

    sample_rate: int = SAMPLE_RATE
    n_fft: int = 2048
    hop_length: int = 441
    frames_per_step: int = 5
    n_steps: int = 200
    window_hop_s: float = 10.0
    n_mfcc: int = 20
    n_chroma: int = 12
    rolloff_percent: float = 0.85
    chroma_tuning: float = 0.0
    """Chroma assumes A440 tuning (librosa estimates it per song, at 10x the cost of chroma)."""
    descriptor_budget_s: float = 61.0
    """Seconds of a song the song-level descriptors read: a one-minute clip (60.03 s once
    decoded, as in the training sets) is read whole."""
    descriptor_excerpts: int = 3
    """Excerpts a longer song is sampled by (20.3 s each with the default budget)."""
    max_windows: int = 5
    """Most windows a song is read through: a one-minute clip (60.03 s, the training sets'
    longest) has 5 and is read whole, as every shorter one."""

    @property
    def step_s(self) -> float:
        """Duration of one time step in seconds."""
        return self.hop_length * self.frames_per_step / self.sample_rate

    @property
    def window_s(self) -> float:
        """Duration of one analysis window in seconds."""
        return self.step_s * self.n_steps

    def to_dict(self) -> dict:
        """The configuration as plain JSON-ready values."""
        return asdict(self)


DEFAULT_CONFIG = FeatureConfig()
