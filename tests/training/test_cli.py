"""End to end: a tiny train-export run on synthesized clips, loaded by the service."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from app.analysis import Analyzer
from app.audio import decode
from app.calibration import Calibration
from app.features import extract
from app.features.windows import windows
from app.model import EmotionModel
from app.settings import SHIPPED_MODEL
from training.calibration import RELIABILITY_FILE
from training.card_page import COMMERCIAL_USE, RESEARCH_FILE
from training.cli import load_items, main, parse_args
from training.export import PARITY_ATOL
from training.musicnn_convert import write_pair
from training.musicnn_features import SHIPPED_MUSICNN


@pytest.mark.slow
def test_tiny_run_produces_a_model_the_service_loads(mini_datasets, tmp_path, capsys):
    out = tmp_path / "model_store"
    args = [
        "--data",
        str(mini_datasets),
        "--out",
        str(out),
        "--name",
        "tiny",
        "--version",
        "0.0.1",
        "--folds",
        "2",
        "--candidates",
        "base",
        "tags",
        "--inner-folds",
        "2",
        "--inner-splits",
        "1",
        "--repeats",
        "1",
        "--epochs",
        "2",
        "--hidden",
        "8",
        "--ensemble",
        "2",
        "--cache",
        str(tmp_path / "cache"),
        "--jobs",
        "1",
        "--no-progress",
    ]
    assert main(args) == 0
    folder = out / "tiny-0.0.1"
    assert sorted(p.name for p in out.iterdir()) == ["tiny-0.0.1"]
    card = json.loads((folder / "card.json").read_text())
    assert card["onnx"]["parity_max_abs_diff"] <= PARITY_ATOL
    assert card["data"]["datasets"]["emotify"]["songs"] == 8
    assert card["data"]["datasets"]["4q"]["songs"] == 8
    assert set(card["evaluation"]["metrics"]) == {"emotify", "4q"}
    protocol = card["evaluation"]["selection_protocol"]
    assert protocol["chosen"] in ("base", "tags") and set(protocol["scores"]) == {"base", "tags"}
    assert len(protocol["chosen_per_outer_fold"]) == 1
    assert len(protocol["chosen_per_outer_fold"][0]) == 2
    assert set(protocol["seeds"]["4q"]["quadrant_accuracy"]) == {"mean", "std", "values"}
    moods = card["evaluation"]["moods"]["metrics"]
    assert set(moods) == {"network", "baseline_mean", "baseline_ridge"}
    out = capsys.readouterr().out
    assert "baseline_ridge" in out and "baseline_logistic" in out
    page = (folder / "card.md").read_text()
    assert "cv_emotify_scatter.png" in page and "cv_valence_arousal_plane.png" in page
    assert "### Moods" in page and "### Selection by nested cross-validation" in page
    assert "## Calibrated probabilities" in page and (folder / RELIABILITY_FILE).is_file()
    assert card["calibration"]["fitted_on"].startswith("8 out-of-fold outputs of 4Q songs")
    assert "## Data and terms" in page and COMMERCIAL_USE in page and "research use" in page
    assert f"]({RESEARCH_FILE})" in page and (folder / RESEARCH_FILE).is_file()
    for png in ("cv_emotify_scatter.png", "cv_valence_arousal_plane.png"):
        assert (folder / png).read_bytes()[:4] == b"\x89PNG"

    model = EmotionModel(folder)
    assert model.calibration == Calibration.of_card(card) and model.calibration is not None
    clip = windows(extract(decode(mini_datasets / "emotify" / "audio" / "3.mp3").samples))
    prediction = model(clip)
    assert prediction.valence.shape == (len(clip),)
    assert np.all(np.abs(prediction.arousal) <= 1)
    assert model.has_moods and prediction.moods.shape == (len(clip), 9)
    assert np.allclose(prediction.moods.sum(axis=1), 1.0, atol=1e-5)

    # A second run reads every feature from the cache and replaces the model (asked to): one
    # reading musicnn's embedding, which carries the musicnn network beside its graph.
    musicnn = ["--candidates", "musicnn", "--musicnn-cache", str(tmp_path / "musicnn")]
    assert main([*args, "--epochs", "1", *musicnn, "--force"]) == 0
    card = json.loads((folder / "card.json").read_text())
    assert card["training"]["epochs"] == 1 and card["training"]["musicnn"]
    assert card["inputs"][-1] == {"name": "musicnn", "shape": ["batch", 400], "dtype": "float32"}
    digest = hashlib.sha256((folder / "musicnn.onnx").read_bytes()).hexdigest()
    assert card["embedding"]["sha256"] == digest and (folder / "musicnn-LICENSE.md").is_file()
    assert "musicnn" in card["description"]
    assert "MSD_musicnn" in (folder / "card.md").read_text().split("## Cross-validated")[0]
    analyzer = Analyzer(folder, warm_up=False)
    assert analyzer.model.embedder is not None
    emotion = analyzer(mini_datasets / "emotify" / "audio" / "3.mp3")
    assert emotion.features.embedding.shape == (2, 200)  # 8 s: two 3-s patches
    assert -1 <= emotion.valence <= 1 and emotion.moods is not None

    # A third reads a graph of two networks (here MSD_musicnn twice): twice the embedding.
    pair = tmp_path / "pair" / "msd_msd"
    write_pair(pair, SHIPPED_MUSICNN, SHIPPED_MUSICNN)
    assert main([*args, "--epochs", "1", *musicnn, "--musicnn", str(pair), "--force"]) == 0
    card = json.loads((folder / "card.json").read_text())
    assert card["inputs"][-1]["shape"] == ["batch", 800] and card["embedding"]["width"] == 800
    emotion = Analyzer(folder, warm_up=False)(mini_datasets / "emotify" / "audio" / "3.mp3")
    assert emotion.features.embedding.shape == (2, 400)


@pytest.mark.slow
def test_own_labelled_clips_alone_make_a_model(mini_datasets, tmp_path):
    """The commercial user's command: a CSV of their clips, no published dataset."""
    audio = mini_datasets / "emotify" / "audio"
    # Distinct labels: even a 2-song validation split has a defined r.
    rows = [f"{audio / f'{k}.mp3'},{k},{3 * k % 8 + 1}" for k in range(1, 9)]
    (tmp_path / "clips.csv").write_text("path,valence,arousal\n" + "\n".join(rows) + "\n")
    options = ["--csv-scale", "1", "8", "--candidates", "base", "tags", "--folds", "2"]
    options += ["--inner-folds", "2", "--inner-splits", "1", "--repeats", "1", "--epochs", "1"]
    options += ["--ensemble", "1", "--cache", str(tmp_path / "cache"), "--no-progress"]
    out = tmp_path / "my_models"
    assert main(["--csv", str(tmp_path / "clips.csv"), "--out", str(out), *options]) == 0
    [folder] = out.iterdir()
    assert folder.name == "-".join(SHIPPED_MODEL)
    card = json.loads((folder / "card.json").read_text())
    assert (
        list(card["data"]["datasets"]) == ["csv"]
        and "user's" in card["data"]["datasets"]["csv"]["terms"]
    )
    protocol = card["evaluation"]["selection_protocol"]
    assert protocol["score"] == "mean of csv valence_r, csv arousal_r"
    assert COMMERCIAL_USE not in (folder / "card.md").read_text()  # their own music already
    assert "calibration" not in card  # no quadrant labels to calibrate signs on
    assert EmotionModel(folder).calibration is None


def test_an_existing_model_is_replaced_only_when_asked(mini_datasets, tmp_path, capsys):
    folder = tmp_path / "out" / "tiny-0.0.1"
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"the previous model")
    args = ["--data", str(mini_datasets), "--out", str(folder.parent), "--name", "tiny"]
    assert main([*args, "--version", "0.0.1", "--cache", str(tmp_path / "cache")]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and str(folder) in error and "--force" in error
    assert (folder / "model.onnx").read_bytes() == b"the previous model"
    assert not (tmp_path / "cache").exists()  # refused before any work


def test_datasets_default_to_those_present_and_a_csv_can_be_added(mini_datasets, tmp_path):
    listing = tmp_path / "clips.csv"
    audio = mini_datasets / "emotify" / "audio"
    listing.write_text(f"path,valence,arousal\n{audio / '1.mp3'},7,3\n{audio / '2.mp3'},2,8\n")
    args = parse_args(
        ["--data", str(mini_datasets), "--csv", str(listing), "--csv-scale", "1", "9"]
    )
    assert args.datasets == ["emotify", "4q"]
    items = load_items(args)
    assert [len(items[k]) for k in ("emotify", "4q", "csv")] == [8, 8, 2]
    assert (items["csv"][0].valence, items["csv"][0].arousal) == (0.5, -0.5)
    only = parse_args(["--data", str(mini_datasets), "--datasets", "4q"])
    assert list(load_items(only)) == ["4q"]
    own = parse_args(["--csv", str(listing), "--csv-scale", "1", "9", "--out", "my_models"])
    assert own.datasets == [] and list(load_items(own)) == ["csv"]
    with pytest.raises(SystemExit):
        parse_args(["--out", str(tmp_path)])  # neither --data nor --csv


def test_the_defaults_are_the_command_that_made_the_shipped_model(mini_datasets):
    from app.settings import Settings
    from training.cli import SHIPPED_CANDIDATES, TRAIN_OPTIONS
    from training.train import TrainConfig

    args = parse_args(["--data", str(mini_datasets)])
    card = json.loads((Settings().model_path / "card.json").read_text())
    protocol = card["evaluation"]["selection_protocol"]
    assert (args.name, args.version) == SHIPPED_MODEL == (card["name"], card["version"])
    assert args.folds == 5
    assert TrainConfig(**{f: getattr(args, f) for f, _ in TRAIN_OPTIONS.values()}) == TrainConfig()
    assert list(protocol["candidates"]) == args.candidates == list(SHIPPED_CANDIDATES)
    assert (protocol["inner_folds"], protocol["inner_splits"]) == (args.inner_folds, 2)
    assert len(protocol["chosen_per_outer_fold"]) == args.repeats == 2
    every_fold = parse_args(["--data", str(mini_datasets), "--inner-splits", "0"])
    assert every_fold.inner_splits is None
