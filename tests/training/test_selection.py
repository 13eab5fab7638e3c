"""Selection by inner cross-validation, nested in the outer one."""

from __future__ import annotations

from dataclasses import replace

import pytest

from training.selection import (
    candidate_configs,
    nested_cross_validate,
    over_repeats,
    select,
    selection_figures,
    selection_score,
)
from training.train import TrainConfig

TINY = TrainConfig(epochs=1, batch_size=16, hidden=4, ensemble=2)


def summary_of(**figures: float) -> dict:
    """A CV summary holding the network's ``figures`` (dataset_metric=value)."""
    result: dict = {}
    for key, value in figures.items():
        dataset, metric = key.split("_", 1)
        dataset = {"fourq": "4q"}.get(dataset, dataset)
        result.setdefault(dataset, {"network": {}})["network"][metric] = {
            "mean": value,
            "std": 0.0,
        }
    return result


def test_candidates_change_the_base_configuration():
    configs = candidate_configs(["base", "tags+confidence"], TINY)
    assert configs["base"] == TINY
    assert configs["tags+confidence"] == replace(TINY, tag_weight=0.5, confidence_power=2.0)
    with pytest.raises(ValueError, match="unknown candidates"):
        candidate_configs(["bigger"], TINY)


def test_the_selection_score_averages_the_headline_figures():
    summary = summary_of(
        emotify_valence_r=0.5,
        emotify_arousal_r=0.7,
        emotify_valence_r2=0.9,  # not a selection figure
        fourq_valence_auc=0.8,
        fourq_arousal_auc=0.9,
        fourq_quadrant_accuracy=0.6,
    )
    assert selection_score(summary) == pytest.approx(0.7)
    emotify_only = summary_of(emotify_valence_r=0.5, emotify_arousal_r=0.7)
    assert selection_score(emotify_only) == pytest.approx(0.6)
    with pytest.raises(ValueError):
        selection_score({})
    csv_only = summary_of(csv_valence_r=0.4, csv_arousal_r=0.8, csv_valence_rmse=0.1)
    assert selection_score(csv_only) == pytest.approx(0.6)
    assert selection_figures(["4q"]) == [
        ("4q", "valence_auc"),
        ("4q", "arousal_auc"),
        ("4q", "quadrant_accuracy"),
    ]


@pytest.mark.slow
def test_select_cross_validates_each_candidate_and_keeps_the_best(songs):
    candidates = candidate_configs(["base", "tags"], TINY)
    choice = select(songs, candidates, 2, seed=0)
    assert set(choice.scores) == set(choice.summaries) == {"base", "tags"}
    assert choice.scores[choice.name] == max(choice.scores.values())
    for name, summary in choice.summaries.items():
        assert choice.scores[name] == selection_score(summary)
        assert set(summary["4q"]) == {"network"}  # no baselines inside the selection
    alone = select(songs, {"base": TINY}, 2)
    assert (alone.name, alone.scores) == ("base", {})


@pytest.mark.slow
def test_nested_cross_validation_chooses_inside_each_outer_fold(songs):
    candidates = candidate_configs(["base", "confidence"], TINY)
    epochs = []
    cv, chosen = nested_cross_validate(
        songs, 2, candidates, 2, seed=1, on_epoch=lambda: epochs.append(1)
    )
    assert len(chosen) == 2 and set(chosen) <= set(candidates)
    assert cv.configs == [candidates[name] for name in chosen]
    # Per outer fold: 2 candidates x 2 inner folds, single networks, then the 2-seed choice.
    assert len(epochs) == 2 * (2 * 2 + 2)
    assert "baseline_logistic" in cv.summary()["4q"]


def test_figures_over_repeated_splits_have_a_spread():
    runs = [
        summary_of(emotify_valence_r=0.5, fourq_quadrant_accuracy=0.6),
        summary_of(emotify_valence_r=0.7, fourq_quadrant_accuracy=0.6),
    ]
    repeats = over_repeats(runs)
    assert repeats["emotify"]["valence_r"] == {
        "mean": pytest.approx(0.6),
        "std": pytest.approx(0.1),
        "values": [0.5, 0.7],
    }
    assert repeats["4q"]["quadrant_accuracy"]["std"] == 0.0
