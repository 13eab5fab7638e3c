"""Where an analysis spends its time: decoding, each family of features and the embedding
network are timed apart (the service's per-stage metrics read these)."""

from app.analysis import Analyzer
from app.features import STAGES
from app.settings import default_model_path


def test_every_stage_is_timed_apart(song_files):
    emotion = Analyzer(default_model_path(), warm_up=False)(song_files["wav"])
    assert set(emotion.timings_s) == {"decode", *STAGES, "inference"}
    assert all(seconds >= 0 for seconds in emotion.timings_s.values())
