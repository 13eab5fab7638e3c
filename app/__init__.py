"""music-emotion: valence and arousal of songs, from their audio."""

__version__ = "0.1.0"
"""The package's version, the one place it is written (pyproject.toml reads it)."""
