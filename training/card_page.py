"""The model card's readable page: ``card.md``, with the card's tables and the PNG figures
of the out-of-fold predictions beside it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from training.baselines import MOOD_MODELS, models_of
from training.cross_validation import CrossValidation
from training.data import EMOTIFY, FOURQ, Song
from training.metrics import METRIC_LABELS, MOOD_METRICS, metrics_of
from training.network import OUTPUT_NAMES
from training.plots import plot_plane, plot_scatter, plot_signs
from training.selection import selection_figures

SCATTER_FILE = "cv_{dataset}_scatter.png"
PLANE_FILE = "cv_valence_arousal_plane.png"
PAGE_FILE = "card.md"
RESEARCH_FILE = "research.md"
"""The experiments behind the training's defaults and candidates, beside the shipped
model; the training carries it into the models it writes, and the page links it."""

COMMERCIAL_USE = (
    "The datasets above are published for research use. For commercial use, retrain on "
    "music you hold the rights to, labelled by your own listeners, with the training "
    "package (the `train` extra): list the clips "
    "in a CSV with header `path,valence,arousal` and run `music-emotion-train --csv "
    "clips.csv --out my_models` (`--csv-scale LO HI` gives the labels' scale, `--name` "
    "and `--version` name the model; `music-emotion-train --help` lists every option)."
)
"""What a commercial user should do, stated on the page of a model trained on published
datasets."""


def _cell(value: Mapping | None) -> str:
    if not value or value.get("mean") is None:
        return "n/a"
    return f"{value['mean']:.3f} ± {value['std']:.3f}"


def summary_table(summary: Mapping, dataset_name: str) -> str:
    """A Markdown table of one dataset's CV metrics (mean ± std over folds) per model."""
    metrics = metrics_of(dataset_name)
    lines = [
        "| model | " + " | ".join(METRIC_LABELS.get(m, m) for m in metrics) + " |",
        "|---|" + "---|" * len(metrics),
    ]
    for model in models_of(dataset_name):
        if model not in summary.get(dataset_name, {}):
            continue
        row = summary[dataset_name][model]
        lines.append(f"| {model} | " + " | ".join(_cell(row.get(m)) for m in metrics) + " |")
    return "\n".join(lines)


def mood_table(moods: Mapping) -> str:
    """A Markdown table of the moods' CV metrics: one row per GEMS category, one column
    per model, and the top-category agreement last."""
    models = [m for m in MOOD_MODELS if m in moods["metrics"]]
    lines = ["| | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    for metric in MOOD_METRICS:
        label = METRIC_LABELS.get(metric, metric.removesuffix("_r").replace("_", " ") + " r")
        cells = [_cell(moods["metrics"][m][metric]) for m in models]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def selection_lines(protocol: Mapping, datasets: Iterable[str]) -> list[str]:
    """The nested-CV selection as Markdown: each candidate's inner-CV figures on all songs
    (of ``datasets``), the gap between the choice and the best alternative, the choices per
    outer fold and the outer figures over repeated splits."""
    figures = selection_figures(datasets)
    labels = [f"{d} {METRIC_LABELS[m]}" for d, m in figures]
    lines = [
        f"Selection score: {protocol['score']}. Inner {protocol['inner_folds']}-fold CV on "
        "all songs (one network per candidate, seed 0); these figures chose the shipped "
        "configuration and are not its score (see the nested figures above).",
        "",
        "| candidate | settings | " + " | ".join(labels) + " | score |",
        "|---|---|" + "---|" * (len(labels) + 1),
    ]
    for name, score in protocol["scores"].items():
        summary = protocol["summaries"][name]
        cells = [
            f"{summary[d]['network'][m]['mean']:.3f}" if d in summary else "n/a" for d, m in figures
        ]
        marked = f"**{name}**" if name == protocol["chosen"] else name
        settings = ", ".join(f"{k} {v:g}" for k, v in protocol["candidates"][name].items())
        lines.append(
            f"| {marked} | {settings or 'defaults'} | " + " | ".join(cells) + f" | {score:.4f} |"
        )
    scores = protocol["scores"]
    if len(scores) > 1:
        best_other = max((n for n in scores if n != protocol["chosen"]), key=scores.get)
        lines += [
            "",
            f"Chosen: **{protocol['chosen']}**, "
            f"{scores[protocol['chosen']] - scores[best_other]:+.4f} in score over the best "
            f"alternative ({best_other}).",
        ]
    lines += ["", "Chosen in each outer fold (one line per outer split seed):", ""]
    lines += [f"- {', '.join(chosen)}" for chosen in protocol["chosen_per_outer_fold"]]
    n_repeats = len(protocol["chosen_per_outer_fold"])
    lines += [
        "",
        f"Nested outer figures over {n_repeats} outer split seed(s) (fold means; mean ± std "
        "over seeds):",
        "",
        "| dataset | metric | mean ± std over seeds | per seed |",
        "|---|---|---|---|",
    ]
    for name, metrics in protocol["repeats"].items():
        for metric, value in metrics.items():
            per_seed = ", ".join(f"{v:.3f}" for v in value["values"])
            lines.append(
                f"| {name} | {METRIC_LABELS.get(metric, metric)} | "
                f"{value['mean']:.3f} ± {value['std']:.3f} | {per_seed} |"
            )
    return lines


def data_lines(card: Mapping) -> list[str]:
    """The "Data and terms" section: per dataset its size, citation, terms and targets;
    the embedding network's licence; what a commercial user should do."""
    data = card["data"]["datasets"]
    lines = ["## Data and terms", ""]
    for name, entry in data.items():
        extra = f", {entry['artists']} artists" if "artists" in entry else ""
        lines += [
            f"- **{name}**: {entry['songs']} songs{extra}. {entry['citation']}",
            f"  Terms: {entry['terms']}",
            f"  Targets: {entry['targets']}",
        ]
    if "embedding" in card:
        embedding = card["embedding"]
        lines.append(
            f"- **{embedding['network']}** (the embedding network's weights): licence "
            f"{embedding['licence']}."
        )
    if any(name != "csv" for name in data):
        lines += ["", COMMERCIAL_USE]
    return [*lines, ""]


def figure_files(folder: Path, cv: CrossValidation, songs: Sequence[Song]) -> list[str]:
    """Plot the out-of-fold predictions of each dataset, and all of them on the
    valence-arousal plane, into ``folder``; returns the file names."""
    written = []
    planes = {}
    for name, idx in cv.indices.items():
        subset = [songs[i] for i in idx]
        served = cv.predictions[name]["network"]
        file = SCATTER_FILE.format(dataset=name)
        shown_name = "4Q" if name == FOURQ else name
        title = f"{shown_name}: out-of-fold predictions ({cv.n_folds}-fold CV)"
        if name == FOURQ:
            quadrants = np.array([s.quadrant for s in subset])
            plot_signs(quadrants, served, title, folder / file)
            planes["4Q (colour: true quadrant)"] = (served, [f"Q{q}" for q in quadrants])
        else:
            truth = np.stack([s.target for s in subset])
            shown = cv.emotify_scale if name == EMOTIFY else served
            plot_scatter(truth, shown, title, folder / file)
            planes[f"{name} (colour: genre)"] = (served, [s.genre or "all" for s in subset])
        written.append(file)
    if planes:
        title = "Out-of-fold predictions on the valence-arousal plane"
        plot_plane(planes, title, folder / PLANE_FILE)
        written.append(PLANE_FILE)
    return written


def evaluation_lines(card: Mapping, folder: Path, figures: Sequence[str]) -> list[str]:
    """The cross-validated performance: method, models, a table per dataset, the moods,
    the selection, the choice's history and the figures."""
    evaluation = card["evaluation"]
    summary = evaluation["metrics"]
    lines = [
        "## Cross-validated performance",
        "",
        evaluation["method"],
        "",
        *(f"- {k}: {v}" for k, v in evaluation["scores"].items()),
        "",
        "Models:",
        "",
        *(f"- `{k}`: {v}" for k, v in evaluation["models"].items()),
        "",
    ]
    for name in summary:
        lines += [f"### {name}", "", summary_table(summary, name), ""]
    if "moods" in evaluation:
        lines += [
            "### Moods (Emotify's GEMS shares)",
            "",
            evaluation["moods"]["method"],
            "",
            *(f"- `{k}`: {v}" for k, v in evaluation["moods"]["models"].items()),
            "",
            mood_table(evaluation["moods"]),
            "",
        ]
    if evaluation.get("selection_protocol", {}).get("scores"):
        lines += [
            "### Selection by nested cross-validation",
            "",
            *selection_lines(evaluation["selection_protocol"], summary),
            "",
        ]
    if (folder / RESEARCH_FILE).is_file():
        lines += [
            "### How this configuration was chosen",
            "",
            "The candidates and the training's defaults come from the experiments recorded "
            f"in [{RESEARCH_FILE}]({RESEARCH_FILE}), with the cross-validated figures of every "
            "alternative tried.",
            "",
        ]
    scatters = [f for f in figures if f.endswith("_scatter.png")]
    if scatters:
        lines += ["## Out-of-fold predictions", "", *(f"![{f}]({f})" for f in scatters), ""]
    if PLANE_FILE in figures:
        lines += [f"![valence-arousal plane]({PLANE_FILE})", ""]
    return lines


def model_lines(card: Mapping) -> list[str]:
    """Aggregation, training settings, export and embedding."""
    training = card["training"]
    lines = [
        "## Windows and aggregation",
        "",
        card["aggregation"],
        "",
        "## Training",
        "",
        training["loss"] + ".",
        "",
        training["crops"] + ".",
        "",
        "| setting | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in training.items() if k not in ("loss", "crops")),
        "",
    ]
    if "emotify_map" in card:
        m = card["emotify_map"]
        lines += [
            "Emotify's scale from the outputs: "
            + ", ".join(
                f"{k} = {m[k]['intercept']:.3f} + {m[k]['slope']:.3f} * output"
                for k in OUTPUT_NAMES
            ),
            "",
        ]
    onnx = card["onnx"]
    lines += [
        "## Export",
        "",
        f"ONNX opset {onnx['opset']}; max |ONNX - PyTorch| on the training windows "
        f"{onnx['parity_max_abs_diff']:.1e} (tolerance {onnx['parity_tolerance']:g}). "
        f"Outputs: {', '.join(o['name'] for o in card['outputs'])}.",
        "",
    ]
    if "embedding" in card:
        e = card["embedding"]
        lines += [
            "## Embedding",
            "",
            f"The graph's `musicnn` input comes from {e['network']} ({e['source']}; licence "
            f"{e['licence']}), run beside it with onnxruntime from `{e['graph']}` (SHA-256 "
            f"{e['sha256'][:16]}...; the service refuses another graph): {e['input']}. "
            "Front-end: " + ", ".join(f"{k} {v}" for k, v in e["front_end"].items()) + ".",
            "",
        ]
    return lines


def write_card_page(
    card: Mapping, folder: Path, cv: CrossValidation, songs: Sequence[Song]
) -> list[str]:
    """Write ``card.md`` and the PNG figures into ``folder``; returns the file names.

    ``cv`` is the cross-validation of the shipped configuration and ``songs`` the song
    list it was run on. The page links :data:`RESEARCH_FILE` when ``folder`` holds it.
    """
    folder = Path(folder)
    figures = figure_files(folder, cv, songs)
    lines = [
        f"# Model card: {card['name']} {card['version']}",
        "",
        card["description"],
        "",
        *data_lines(card),
        *evaluation_lines(card, folder, figures),
        *model_lines(card),
    ]
    (folder / PAGE_FILE).write_text("\n".join(lines))
    return [*figures, PAGE_FILE]
