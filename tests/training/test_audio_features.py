"""Fitting the audio features' calibration: weights, quantile maps, out-of-fold scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.audio_features import MAPPED_FIELDS, AudioFeaturesCalibration
from training.audio_features import (
    FIELD_INPUTS,
    FIXED_WEIGHTS,
    REFERENCE_QUANTILES,
    SHIFTED,
    SPOTIFY_TABLE,
    Song,
    calibration_json,
    fit_calibration,
    fit_field,
    out_of_fold_fields,
    read_reference_quantiles,
    read_spotify_table,
)

FITTED = [field for field, inputs in FIELD_INPUTS.items() if inputs]
NAMES = sorted(
    {name for inputs in FIELD_INPUTS.values() for name in inputs} | {"mode_margin", "triple_meter"}
)
LEVELS = np.linspace(0, 1, 101)


def synthetic_songs(n: int, seed: int, matched: bool) -> list[Song]:
    """Songs whose every raw value is random; a matched song's Spotify value of every
    fitted field rises with its first input (plus a little noise)."""
    rng = np.random.default_rng(seed)
    songs = []
    for k in range(n):
        values = {name: float(rng.standard_normal()) for name in NAMES}
        spotify = None
        if matched:
            spotify = {
                field: float(
                    1 / (1 + np.exp(-2 * values[inputs[0]])) + 0.05 * rng.standard_normal()
                )
                for field, inputs in FIELD_INPUTS.items()
                if inputs
            }
            spotify |= {"mode": float(values["mode_margin"] > 0), "time_signature": 4.0}
            spotify["loudness"] = values["mono_loudness_lufs"] + 7.0 + 0.1 * rng.standard_normal()
            spotify |= {field: float(rng.random()) for field in FIELD_INPUTS if field not in FITTED}
        songs.append(
            Song(f"s/{seed}-{k}", Path(f"{k}.mp3"), f"artist{k % (n // 2)}", None, values, spotify)
        )
    return songs


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    """Spotify-like quantiles: unit fields uniform, mode 36% minor, meter mostly 4."""
    quantiles = {field: LEVELS.copy() for field in MAPPED_FIELDS}
    quantiles["loudness"] = np.linspace(-30, -2, 101)
    quantiles["mode"] = (LEVELS > 0.36).astype(float)
    quantiles["time_signature"] = np.select(
        [LEVELS < 0.01, LEVELS < 0.07, LEVELS > 0.98], [0, 3, 5], 4
    )
    quantiles["tempo"] = np.linspace(60, 200, 101)
    return quantiles


def test_a_field_maps_the_corpus_onto_spotify_s_distribution(reference):
    matched, corpus = synthetic_songs(80, 1, True), synthetic_songs(500, 2, False)
    field = fit_field("energy", matched, corpus, np.linspace(-30, -2, 101))
    mapped = np.array([field(s.values) for s in corpus])
    assert np.quantile(mapped, [0.1, 0.5, 0.9]) == pytest.approx([-27.2, -16.0, -4.8], abs=0.7)
    # The weights found the input that drives Spotify's value.
    first = FIELD_INPUTS["energy"].index(FIELD_INPUTS["energy"][0])
    assert np.argmax(np.abs(field.weights)) == first and field.weights[first] > 0


def test_the_map_is_monotone_in_the_raw_score(reference):
    matched, corpus = synthetic_songs(80, 3, True), synthetic_songs(300, 4, False)
    field = fit_field("danceability", matched, corpus, reference["danceability"])
    lead = field.inputs[0]
    base = dict(corpus[0].values)
    outputs = [field(base | {lead: x}) for x in np.linspace(-4, 4, 41)]
    assert np.all(np.diff(outputs) >= 0) and outputs[-1] > outputs[0]


def test_fixed_fields_follow_spotify_s_shares(reference):
    corpus = synthetic_songs(1000, 5, False)
    maps = fit_calibration(synthetic_songs(40, 6, True), corpus, reference)
    major = np.mean([maps["mode"](s.values) >= 0.5 for s in corpus])
    assert major == pytest.approx(0.64, abs=0.02)
    meters = {round(maps["time_signature"](s.values)) for s in corpus}
    assert meters == {3, 4}  # 5/4 and the table's 0 are out of reach
    assert set(FIXED_WEIGHTS) <= maps.keys()


def test_loudness_stays_in_db_shifted_to_spotify_s_level(reference):
    matched = synthetic_songs(60, 15, True)
    maps = fit_calibration(matched, synthetic_songs(50, 16, False), reference)
    assert SHIFTED == {"loudness": "mono_loudness_lufs"}
    for lufs in (-30.0, -12.0, -5.0):
        assert maps["loudness"]({"mono_loudness_lufs": lufs}) == pytest.approx(lufs + 7.0, abs=0.05)


def test_a_field_without_inputs_is_spotify_s_median(reference):
    maps = fit_calibration(synthetic_songs(40, 13, True), synthetic_songs(50, 14, False), reference)
    for field in set(FIELD_INPUTS) - set(FITTED):
        assert maps[field]({}) == pytest.approx(float(np.median(reference[field])))


def test_linear_is_the_ridge_prediction(reference):
    matched, corpus = synthetic_songs(80, 7, True), synthetic_songs(100, 8, False)
    field = fit_field("valence", matched, corpus, reference["valence"], linear=True)
    predicted = np.array([field(s.values) for s in matched])
    truth = np.array([s.spotify["valence"] for s in matched])
    assert np.corrcoef(predicted, truth)[0, 1] > 0.8
    assert predicted.mean() == pytest.approx(truth.mean(), abs=1e-6)


def test_out_of_fold_predictions_ignore_the_song_s_own_value(reference):
    matched, corpus = synthetic_songs(40, 9, True), synthetic_songs(200, 10, False)
    before = out_of_fold_fields(matched, corpus, reference, folds=5)
    changed = matched[0].spotify | {name: 0.0 for name in FIELD_INPUTS}
    altered = [Song(**{**vars(matched[0]), "spotify": changed}), *matched[1:]]
    after = out_of_fold_fields(altered, corpus, reference, folds=5)
    for name in FITTED:
        assert after[name][0] == before[name][0]
        assert not np.array_equal(after[name][1:], before[name][1:]), name


def test_the_file_reads_back_as_the_service_s_calibration(tmp_path, reference):
    corpus = synthetic_songs(200, 11, False)
    maps = fit_calibration(synthetic_songs(40, 12, True), corpus, reference)
    content = calibration_json(
        maps,
        reference,
        model={"name": "m", "version": "1"},
        musicnn_sha256="abc",
        tags=["rock"],
        provenance={"matched_songs": 40},
    )
    (tmp_path / "audio_features.json").write_text(json.dumps(content))
    calibration = AudioFeaturesCalibration.load(tmp_path / "audio_features.json")
    calibration.check("m", "1", "abc")
    for name in MAPPED_FIELDS:
        assert calibration.fields[name](corpus[3].values) == pytest.approx(
            maps[name](corpus[3].values)
        )


def test_the_shared_spotify_tables(shared_datasets):
    table = read_spotify_table(shared_datasets / SPOTIFY_TABLE)
    reference = read_reference_quantiles(shared_datasets / REFERENCE_QUANTILES)
    assert len(table) == 83
    assert set(MAPPED_FIELDS) <= next(iter(table.values())).keys()
    assert all(len(q) == 101 and np.all(np.diff(q) >= 0) for q in reference.values())
