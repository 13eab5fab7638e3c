"""Calibrate the audio features (:mod:`app.audio_features`) on Spotify's scale.

Three sources, all under the shared datasets folder:

- ``spotify/fourq_spotify_features.csv``: Spotify's values for songs of 4Q (the matched
  songs). Each field's weights are fitted on them: a ridge regression of Spotify's value
  on the field's inputs (:data:`FIELD_INPUTS`), standardised.
- ``spotify/reference_quantiles.csv``: Spotify's percentiles of every field over about
  145,000 tracks, the scale each raw score is mapped onto.
- the training clips (Emotify and 4Q) other than the matched songs: the corpus whose
  raw-score percentiles meet Spotify's.

The model's valence and arousal, where a field reads them, are out-of-fold predictions
of the model's training configuration (:func:`out_of_fold_emotion`): the shipped model
has seen every training clip, so its outputs on them are more confident than on a new
song, and weights fitted on them would trust them too much.

Run ``python -m training.audio_features --data ../shared/datasets --model
model_store/music-emotion-0.4.0 --out-of-fold <the training's --oof file>`` to write
``audio_features.json`` beside the model (see :func:`main` for the caches it reads).
``benchmarks/spotify_agreement.py`` scores the whole procedure out of fold.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GroupKFold

from app.audio_features import (
    CALIBRATION_FILE,
    CALIBRATION_FORMAT,
    MAPPED_FIELDS,
    FieldMap,
    raw_values,
)
from app.features import Evidence
from app.features.musicnn import EMBEDDING_OUTPUT, TAGGRAM_OUTPUT
from app.model import CARD_FILE, EMBEDDER_FILE
from training.cross_validation import cross_validate
from training.data import make_songs
from training.datasets import Item, load
from training.evidence import evidence_all
from training.features import extract_all
from training.musicnn_features import embed_all
from training.out_of_fold import read_out_of_fold
from training.train import TrainConfig

SPOTIFY_TABLE = Path("spotify") / "fourq_spotify_features.csv"
REFERENCE_QUANTILES = Path("spotify") / "reference_quantiles.csv"


def _tags(*names: str) -> tuple[str, ...]:
    return tuple(f"tag:{name}" for name in names)


FIELD_INPUTS: dict[str, tuple[str, ...]] = {
    "valence": (
        "valence",
        "arousal",
        "mode_margin",
        *_tags("happy", "sad", "party", "dance", "Mellow", "beautiful"),
    ),
    "energy": (
        "arousal",
        "mono_loudness_lufs",
        "peak_to_loudness_db",
        "brightness_hz",
        "onset_rate",
        "dynamic_spread_db",
        "pulse_clarity",
        *_tags("metal", "hard rock", "punk", "Mellow", "chill", "easy listening", "acoustic"),
    ),
    "danceability": (
        "pulse_clarity",
        "beat_strength",
        "dfa_alpha",
        "onset_rate",
        "tempo_octave",
        *_tags("dance", "party", "Hip-Hop", "funk", "House", "electronic", "rnb", "sexy"),
    ),
    "acousticness": (
        "brightness_hz",
        *_tags("acoustic", "folk", "country", "jazz", "guitar"),
        *_tags("electronic", "electro", "House", "metal", "rock", "dance"),
    ),
    "instrumentalness": (
        "chroma_continuity",
        *_tags("instrumental", "ambient", "female vocalists", "male vocalists"),
        *_tags("female vocalist", "Hip-Hop", "rnb", "soul", "pop"),
    ),
    "speechiness": ("chroma_continuity", "key_clarity", "onset_rate", *_tags("Hip-Hop", "rnb")),
    "liveness": (),
}
"""What each fitted field's raw score reads, chosen from Spotify's definition of the field
(energy: loud, fast, noisy; danceability: tempo, beat strength, regularity; ...), before
any fitting. Liveness reads nothing: no evidence tried (dynamics, brightness, flatness,
genre tags) predicted it out of fold (Pearson r between -0.4 and 0.01 on the matched
songs), so it is Spotify's median, said plainly rather than fitted to noise."""

SHIFTED: dict[str, str] = {"loudness": "mono_loudness_lufs"}
"""Fields whose evidence is already in Spotify's unit (dB): the map adds the median
difference between Spotify's value and the evidence over the matched songs. A quantile
map would bend the dB scale (Pearson r 0.64 against 0.69 out of fold), and the
peak-to-loudness ratio or era tags beside the loudness did not help (0.64-0.67)."""

FIXED_WEIGHTS: dict[str, dict[str, float]] = {
    "mode": {"mode_margin": 1.0},
    "time_signature": {"triple_meter": -1.0},
}
"""Fields whose raw score is one evidence value, not fitted: only its quantiles are."""

ONLY_VALUES = {"time_signature": (3.0, 4.0)}
"""Spotify values a field is limited to: the accents over beats tell 3 from 4 beats per
bar, not 5, 6 or 7."""

RIDGE_ALPHAS = np.logspace(-2, 4, 25)
"""Ridge penalties tried (by leave-one-out) on the matched songs."""


@dataclass(frozen=True)
class Song:
    """One clip: its evidence, its raw values (:func:`app.audio_features.raw_values`) and,
    for a matched song, Spotify's values (NaN where the table has none)."""

    key: str
    path: Path
    group: str
    evidence: Evidence
    values: dict[str, float]
    spotify: dict[str, float] | None = None


def read_spotify_table(file: Path) -> dict[str, dict[str, float]]:
    """4Q song id -> Spotify's field values (NaN where empty)."""
    names = (*MAPPED_FIELDS, "tempo", "key")
    with open(file, newline="") as handle:
        return {
            row["Song"]: {n: float(row[n]) if row[n] != "" else np.nan for n in names}
            for row in csv.DictReader(handle)
        }


def read_reference_quantiles(file: Path) -> dict[str, np.ndarray]:
    """Field -> Spotify's values at the quantiles 0, 0.01, ..., 1."""
    with open(file, newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = [name for name in rows[0] if name != "quantile"]
    return {name: np.array([float(r[name]) for r in rows]) for name in names}


def training_config(card: Mapping) -> TrainConfig:
    """The training configuration a model card records (what the card records beyond
    today's options, such as those since retired, is left out)."""
    recorded = card["training"]
    return TrainConfig(
        **{f.name: recorded[f.name] for f in fields(TrainConfig) if f.name in recorded}
    )


def out_of_fold_emotion(
    items: Sequence[Item],
    feature_cache: Path,
    musicnn_cache: Path,
    config: TrainConfig,
    *,
    folds: int = 5,
    seed: int = 0,
    progress: bool = True,
) -> np.ndarray:
    """(items, 2) valence and arousal of every item predicted by a network (of the
    training ``config``, which must read musicnn's embedding) that never saw it: the
    network of the cross-validation fold that held the item out."""
    paths = [item.path for item in items]
    features = extract_all(paths, feature_cache, progress=progress)
    outputs = embed_all(paths, musicnn_cache, progress=progress)
    embeddings = [o[EMBEDDING_OUTPUT] for o in outputs]
    songs = make_songs(items, features, train_hop_s=config.train_hop_s, embeddings=embeddings)
    cv = cross_validate(songs, folds, config, seed=seed, baselines=False)
    predicted = np.zeros((len(items), 2))
    for dataset, indices in cv.indices.items():
        predicted[indices] = cv.predictions[dataset]["network"]
    return predicted


def corpus_songs(
    items: Sequence[Item],
    evidence: Sequence[Evidence],
    taggrams: Sequence[np.ndarray],
    emotion: np.ndarray,
    tags: Sequence[str],
    spotify: Mapping[str, dict[str, float]],
) -> list[Song]:
    """Every item as a :class:`Song`, with Spotify's values where the table has the song
    (keyed by the 4Q song id, the file's stem)."""
    return [
        Song(
            key=item.key,
            path=item.path,
            group=item.group,
            evidence=ev,
            values=raw_values(ev, tg, tags, float(va[0]), float(va[1])),
            spotify=spotify.get(item.path.stem) if item.key.startswith("4q/") else None,
        )
        for item, ev, tg, va in zip(items, evidence, taggrams, emotion, strict=True)
    ]


def fit_field(
    name: str,
    matched: Sequence[Song],
    corpus: Sequence[Song],
    spotify_quantiles: np.ndarray,
    *,
    inputs: Sequence[str] | None = None,
    linear: bool = False,
) -> FieldMap:
    """The map of field ``name``: its evidence shifted (:data:`SHIFTED`), or weights fitted
    on the ``matched`` songs (or fixed, :data:`FIXED_WEIGHTS`) and the raw score's
    quantiles over ``corpus`` matched to ``spotify_quantiles`` (limited to
    :data:`ONLY_VALUES`); a field without inputs is Spotify's median.

    ``inputs`` replaces the field's :data:`FIELD_INPUTS` (and makes a shifted field a
    fitted one); with ``linear`` the map is the ridge regression itself (its prediction, no
    quantile matching): both serve to measure what each part brings
    (``benchmarks/spotify_agreement.py``)."""
    if name in SHIFTED and inputs is None:
        evidence = SHIFTED[name]
        shift = np.median([s.spotify[name] - s.values[evidence] for s in matched])
        return _line((evidence,), np.zeros(1), np.ones(1), np.ones(1), float(shift))
    if name in FIXED_WEIGHTS:
        inputs = tuple(FIXED_WEIGHTS[name])
        weights = np.array(list(FIXED_WEIGHTS[name].values()))
        return _quantile_map(
            name,
            inputs,
            np.zeros(len(inputs)),
            np.ones(len(inputs)),
            weights,
            corpus,
            spotify_quantiles,
        )
    inputs = tuple(FIELD_INPUTS.get(name, ()) if inputs is None else inputs)
    if not inputs:
        return _line((), np.zeros(0), np.ones(0), np.zeros(0), float(np.median(spotify_quantiles)))
    songs = [s for s in matched if not np.isnan(s.spotify[name])]
    x = np.array([[s.values[i] for i in inputs] for s in songs])
    centre, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    target = np.array([s.spotify[name] for s in songs])
    ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit((x - centre) / scale, target)
    if linear:
        return _line(inputs, centre, scale, ridge.coef_, float(ridge.intercept_))
    return _quantile_map(name, inputs, centre, scale, ridge.coef_, corpus, spotify_quantiles)


def _line(
    inputs: tuple[str, ...],
    centre: np.ndarray,
    scale: np.ndarray,
    weights: np.ndarray,
    offset: float,
) -> FieldMap:
    """The map ``raw + offset``: a line of slope 1 far wider than any raw score."""
    span = np.array([-1e9, 1e9])
    return FieldMap(inputs, centre, scale, weights, span, span + offset)


def _quantile_map(
    name: str,
    inputs: tuple[str, ...],
    centre: np.ndarray,
    scale: np.ndarray,
    weights: np.ndarray,
    corpus: Sequence[Song],
    spotify_quantiles: np.ndarray,
) -> FieldMap:
    """The map matching the raw score's quantiles over ``corpus`` to Spotify's."""
    levels = np.linspace(0.0, 1.0, len(spotify_quantiles))
    raw = FieldMap(inputs, centre, scale, weights, levels, levels)
    scores = np.array([raw.raw(s.values) for s in corpus])
    target_quantiles = spotify_quantiles
    if name in ONLY_VALUES:
        target_quantiles = np.clip(spotify_quantiles, *ONLY_VALUES[name])
    # Ties among the corpus's quantiles would make the map a step; a tiny rise keeps it a
    # function of the raw score.
    raw_quantiles = np.quantile(scores, levels)
    raw_quantiles = raw_quantiles + np.arange(len(levels)) * 1e-9 * max(np.ptp(scores), 1.0)
    return FieldMap(inputs, centre, scale, weights, raw_quantiles, target_quantiles)


def fit_calibration(
    matched: Sequence[Song],
    corpus: Sequence[Song],
    reference: Mapping[str, np.ndarray],
    *,
    field_inputs: Mapping[str, Sequence[str]] | None = None,
    linear: bool = False,
) -> dict[str, FieldMap]:
    """Field name -> its map (:data:`app.audio_features.MAPPED_FIELDS`); ``field_inputs``
    and ``linear`` as :func:`fit_field`'s ``inputs`` and ``linear``, per field."""
    field_inputs = field_inputs or {}
    return {
        name: fit_field(
            name,
            matched,
            corpus,
            reference[name],
            inputs=field_inputs.get(name),
            linear=linear,
        )
        for name in MAPPED_FIELDS
    }


def out_of_fold_fields(
    matched: Sequence[Song],
    corpus: Sequence[Song],
    reference: Mapping[str, np.ndarray],
    *,
    folds: int = 10,
    seed: int = 0,
    **options: object,
) -> dict[str, np.ndarray]:
    """Field name -> each matched song's value from a calibration fitted without it
    (grouped ``folds``-fold cross-validation: an artist's songs stay together);
    ``options`` go to :func:`fit_calibration`."""
    groups, labels = np.unique([s.group for s in matched], return_inverse=True)
    # GroupKFold splits deterministically: the seed renames the groups instead.
    labels = np.random.default_rng(seed).permutation(len(groups))[labels]
    predicted = {name: np.zeros(len(matched)) for name in MAPPED_FIELDS}
    for train, test in GroupKFold(folds).split(labels, groups=labels):
        maps = fit_calibration([matched[i] for i in train], corpus, reference, **options)
        for name, field in maps.items():
            predicted[name][test] = [field(matched[i].values) for i in test]
    return predicted


def calibration_json(
    fields: Mapping[str, FieldMap],
    reference: Mapping[str, np.ndarray],
    *,
    model: Mapping[str, str],
    musicnn_sha256: str,
    tags: Sequence[str],
    provenance: Mapping[str, object],
) -> dict:
    """The calibration file's content (:class:`app.audio_features.AudioFeaturesCalibration`)."""
    return {
        "format": CALIBRATION_FORMAT,
        "model": dict(model),
        "musicnn_sha256": musicnn_sha256,
        "tags": list(tags),
        "tempo_quantiles": reference["tempo"].tolist(),
        "fields": {name: field.to_dict() for name, field in fields.items()},
        "provenance": dict(provenance),
    }


def load_corpus(
    data: Path,
    model_dir: Path,
    *,
    feature_cache: Path,
    musicnn_cache: Path,
    evidence_cache: Path,
    emotion_cache: Path,
    out_of_fold: Path | None = None,
    folds: int = 5,
    progress: bool = True,
) -> tuple[list[Song], list[Song], tuple[str, ...]]:
    """(matched songs, corpus songs, tag names) of the Emotify and 4Q clips under ``data``.

    The out-of-fold valence and arousal are read from ``out_of_fold`` (the training's
    ``--oof`` file: its outer cross-validation, which made the model) when given; else
    computed by :func:`out_of_fold_emotion` and cached in ``emotion_cache`` (an ``.npz``
    of the clips' keys and predictions), as the cross-validation takes minutes.
    """
    items = load("4q", data) + load("emotify", data)
    tags = tuple(json.loads((model_dir / f"{EMBEDDER_FILE}.json").read_text())["tags"])
    paths = [item.path for item in items]
    evidence = evidence_all(paths, evidence_cache, progress=progress)
    outputs = embed_all(paths, musicnn_cache, model_dir / EMBEDDER_FILE, progress=progress)
    keys = [item.key for item in items]
    if out_of_fold is not None:
        predicted = read_out_of_fold(out_of_fold)
        missing = [p for p in paths if p.resolve() not in predicted]
        if missing:
            raise ValueError(f"{out_of_fold} has no prediction of {missing[0]} ({len(missing)})")
        emotion = np.array([predicted[p.resolve()] for p in paths])
    elif emotion_cache.is_file():
        with np.load(emotion_cache) as cached:
            if list(cached["keys"]) != keys:
                raise ValueError(f"{emotion_cache} holds other clips: delete it to recompute")
            emotion = cached["emotion"]
    else:
        config = training_config(json.loads((model_dir / CARD_FILE).read_text()))
        emotion = out_of_fold_emotion(
            items, feature_cache, musicnn_cache, config, folds=folds, progress=progress
        )
        emotion_cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(emotion_cache, keys=np.array(keys), emotion=emotion)
    taggrams = [o[TAGGRAM_OUTPUT] for o in outputs]
    spotify = read_spotify_table(data / SPOTIFY_TABLE)
    songs = corpus_songs(items, evidence, taggrams, emotion, tags, spotify)
    matched = [s for s in songs if s.spotify is not None]
    corpus = [s for s in songs if s.spotify is None]
    return matched, corpus, tags


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """The options naming the data, the model and the caches :func:`corpus_of` reads."""
    parser.add_argument("--data", type=Path, required=True, help="the shared datasets folder")
    parser.add_argument("--model", type=Path, required=True, help="the model's folder")
    parser.add_argument("--cache", type=Path, default=Path(".cache/features"))
    parser.add_argument("--musicnn-cache", type=Path, default=Path(".cache/musicnn"))
    parser.add_argument("--evidence-cache", type=Path, default=Path(".cache/evidence"))
    parser.add_argument(
        "--emotion-cache",
        type=Path,
        default=None,
        help="the out-of-fold valence and arousal (default .cache/out_of_fold/<model>.npz)",
    )
    parser.add_argument(
        "--out-of-fold",
        type=Path,
        default=None,
        metavar="CSV",
        help="the training's out-of-fold predictions (music-emotion-train --oof), read "
        "instead of the emotion cache's cross-validation of the card's configuration",
    )
    parser.add_argument("--folds", type=int, default=5, help="folds of the emotion CV")


def valence_arousal_source(args: argparse.Namespace) -> str:
    """Where :func:`corpus_of` took the clips' out-of-fold valence and arousal from."""
    if args.out_of_fold is not None:
        return (
            "out-of-fold predictions of the training's outer cross-validation "
            "(music-emotion-train --oof: the nested selection and the ensemble, as shipped)"
        )
    return (
        f"out-of-fold predictions, {args.folds}-fold cross-validation of the model's "
        "training configuration"
    )


def corpus_of(args: argparse.Namespace, progress: bool = True) -> tuple[list[Song], ...]:
    """:func:`load_corpus` with the options of :func:`add_corpus_arguments`."""
    emotion_cache = args.emotion_cache or (
        Path(".cache/out_of_fold") / f"{args.model.resolve().name}.npz"
    )
    return load_corpus(
        args.data,
        args.model,
        feature_cache=args.cache,
        musicnn_cache=args.musicnn_cache,
        evidence_cache=args.evidence_cache,
        emotion_cache=emotion_cache,
        out_of_fold=args.out_of_fold,
        folds=args.folds,
        progress=progress,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Fit the calibration on every matched song and write it to the model's folder."""
    parser = argparse.ArgumentParser(
        prog="python -m training.audio_features",
        description="Fit the audio features' calibration and write it beside the model.",
    )
    add_corpus_arguments(parser)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    matched, corpus, tags = corpus_of(args, progress=not args.no_progress)
    reference = read_reference_quantiles(args.data / REFERENCE_QUANTILES)
    card = json.loads((args.model / CARD_FILE).read_text())
    content = calibration_json(
        fit_calibration(matched, corpus, reference),
        reference,
        model={"name": card["name"], "version": card["version"]},
        musicnn_sha256=card["embedding"]["sha256"],
        tags=tags,
        provenance={
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": "python -m training.audio_features --data <shared datasets> "
            f"--model {args.model.name}",
            "matched_songs": len(matched),
            "matched_table": str(SPOTIFY_TABLE),
            "reference_quantiles": str(REFERENCE_QUANTILES),
            "corpus_clips": len(corpus),
            "corpus": "Emotify and 4Q training clips other than the matched songs",
            "valence_arousal": valence_arousal_source(args),
        },
    )
    target = args.model / CALIBRATION_FILE
    target.write_text(json.dumps(content, indent=1) + "\n")
    print(f"wrote {target} ({len(matched)} matched songs, {len(corpus)} corpus clips)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
