"""music-emotion: valence and arousal of songs, from their audio."""

__version__ = "0.1.0"
