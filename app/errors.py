"""The service's error hierarchy; :mod:`app.problems` maps each class to a problem type."""


class MusicEmotionError(Exception):
    """Base class of every error this package raises on purpose."""


class AudioError(MusicEmotionError):
    """The input cannot be analysed as audio."""


class EmptyInputError(AudioError):
    """The upload holds no bytes."""


class InputTooLargeError(AudioError):
    """The upload is larger than the configured limit."""


class UndecodableAudioError(AudioError):
    """No decoder could read the bytes as audio (not audio, corrupt, or an unknown format)."""


class AudioTooShortError(AudioError):
    """The audio is too short to analyse."""


class SilentAudioError(AudioError):
    """The audio is silent (nothing above BS.1770's -70 LUFS gate): it has no emotion to tell."""


class ModelContractError(MusicEmotionError):
    """A model's card disagrees with the running code; the model must not be used."""


class AudioFeaturesUnavailableError(MusicEmotionError):
    """The model cannot give Spotify's audio features: it has no audio-features calibration
    beside it, or reads no musicnn network (whose tags most fields come from)."""


class WorkerCrashedError(Exception):
    """The analysis process died during the analysis."""


class AnalysisTimeoutError(Exception):
    """The analysis ran past the time limit; its process was killed."""


class SearchError(MusicEmotionError):
    """A query of a catalogue cannot be answered (:mod:`app.search`)."""


class NoCatalogueError(SearchError):
    """There is no catalogue to query: none configured, or none at the location."""


class UnknownSongError(SearchError):
    """The catalogue holds no scored song at this path."""


class MissingColumnError(SearchError):
    """The query needs a column the catalogue does not have (it was scored without it)."""


class InvalidQueryError(SearchError):
    """The query's values are out of range or inconsistent."""


class CorruptIndexError(SearchError):
    """The catalogue's similarity index is damaged; it is refused, never used."""


class SearchUnavailableError(SearchError):
    """This installation lacks what queries need (the ``catalogue`` extra)."""
