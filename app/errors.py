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


class WorkerCrashedError(Exception):
    """The analysis process died during the analysis."""


class AnalysisTimeoutError(Exception):
    """The analysis ran past the time limit; its process was killed."""
