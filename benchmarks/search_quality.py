"""How well a catalogue's nearest neighbours agree with what people say of the songs.

On the shared songs (Emotify: 320 clips in four genres; 4Q: 720 clips in four
quadrants), for each song, the share of its k nearest other songs of the same set that
have its Emotify genre, or its 4Q quadrant, when "nearest" means:

- chance: a random other song of the set (the share of songs of its class, itself
  left out);
- plane: nearest by valence and arousal alone. The catalogue's valence and arousal come
  from the shipped model, which was trained on these very songs, so here they are
  out-of-fold predictions: with ``--valence-arousal network`` (the default), the shipped
  model's configuration (model card's ``training``) trained on the other folds' songs of
  both sets, with ``--ensemble`` seeds (the shipped model averages five); with
  ``linear``, a far cheaper stand-in, the card's linear baselines on the pooled features
  and musicnn statistics (a ridge regression of Emotify's valence and arousal, a logistic
  regression of each 4Q axis's sign), fitted per set on the other folds;
- sound: nearest by the sound column (musicnn's mean embedding, cosine distance), and
  variants of it (mean and standard deviation of the patches; each value standardised;
  PCA to 32 or 64 values; standardisation and PCA fitted on the *other* set, as a
  shipped reduction would be fitted on other songs);
- sound and mood: the similar query's mixed distance (:mod:`app.search.similar`) at
  several weights.

Then the duplicates: the cosine distance between the sounds of one recording encoded
twice (the 40 full-band Ogg Vorbis clips against their 48-kbps mono MP3), against the
distance between the closest distinct songs.

    python benchmarks/search_quality.py --data ../shared/datasets \\
        --cache /work/cache/features --musicnn-cache /work/cache/musicnn
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from app import table  # noqa: E402
from app.features.musicnn import EMBEDDING_OUTPUT  # noqa: E402
from app.search.similar import DUPLICATE_SOUND  # noqa: E402
from app.settings import default_model_path  # noqa: E402

SETS = {"emotify": "genre", "4q": "quadrant"}
WEIGHTS = (0.25, 0.5, 0.75)


def cosine_matrix(x: np.ndarray) -> np.ndarray:
    n = x / np.linalg.norm(x, axis=1, keepdims=True)
    return 1.0 - n @ n.T


def plane_matrix(points: np.ndarray) -> np.ndarray:
    return np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)


def agreement(distances: np.ndarray, labels: np.ndarray, k: int) -> float:
    """The mean share of each song's ``k`` nearest others that share its label."""
    d = distances.copy()
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
    return float(np.mean(labels[nearest] == labels[:, None]))


def chance(labels: np.ndarray) -> float:
    values, counts = np.unique(labels, return_counts=True)
    share = dict(zip(values, (counts - 1) / (len(labels) - 1), strict=True))
    return float(np.mean([share[label] for label in labels]))


def typical(distances: np.ndarray) -> float:
    """The median distance between two different songs (as :class:`Scales` measures)."""
    return float(np.median(distances[np.triu_indices(len(distances), 1)]))


def mixed(sound: np.ndarray, plane: np.ndarray, weight: float) -> np.ndarray:
    return weight * sound / typical(sound) + (1 - weight) * plane / typical(plane)


def out_of_fold_points(songs, config, folds: int, cache: Path) -> np.ndarray:
    """(songs, 2) out-of-fold valence and arousal (the network's served outputs), cached
    under ``cache`` by the songs and the configuration."""
    from training.cross_validation import cross_validate

    identity = json.dumps(
        {"songs": [s.key for s in songs], "config": repr(config), "folds": folds}
    ).encode()
    file = cache / f"oof-{hashlib.sha256(identity).hexdigest()[:16]}.npy"
    if file.exists():
        return np.load(file)
    result = cross_validate(songs, folds, config, baselines=False)
    points = np.zeros((len(songs), 2))
    for dataset, index in result.indices.items():
        points[index] = result.predictions[dataset]["network"]
    cache.mkdir(parents=True, exist_ok=True)
    np.save(file, points)
    return points


def out_of_fold_linear(songs, folds: int, seed: int = 0) -> np.ndarray:
    """(songs, 2) out-of-fold predictions of the card's linear baselines, per set."""
    from training.baselines import BASELINE_INPUTS, fit_logistic, fit_ridge
    from training.cross_validation import split_folds

    inputs = BASELINE_INPUTS["_both"]
    points = np.zeros((len(songs), 2))
    for name in SETS:
        members = np.array([i for i, s in enumerate(songs) if s.dataset == name])
        group = [songs[i] for i in members]
        for train, test in split_folds(group, folds, seed):
            fitted = [group[i] for i in train]
            model = fit_ridge(fitted, inputs=inputs) if name == "emotify" else None
            model = model or fit_logistic(fitted, inputs)
            points[members[test]] = model([group[i] for i in test])
    return points


def shipped_config(ensemble: int):
    """The shipped model's training configuration (its card), with ``ensemble`` seeds."""
    from training.train import TrainConfig

    card = json.loads((default_model_path() / "card.json").read_text())
    known = {f.name for f in fields(TrainConfig)}
    given = {
        k: tuple(v) if isinstance(v, list) else v for k, v in card["training"].items() if k in known
    }
    return replace(TrainConfig(**given), ensemble=ensemble)


def sound_variants(patches: list[np.ndarray], other: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The sound column and its variants; standardisation and PCA fitted on ``other``."""
    mean = np.stack([table.sound_of(p) for p in patches])
    other_mean = np.stack([table.sound_of(p) for p in other])
    centre, spread = other_mean.mean(0), other_mean.std(0) + 1e-6
    variants = {
        "sound (the column: mean, 200)": mean,
        "sound: mean and std (400)": np.hstack([mean, np.stack([p.std(0) for p in patches])]),
        "sound: standardised (200)": (mean - centre) / spread,
    }
    _, _, axes = np.linalg.svd((other_mean - centre) / spread, full_matrices=False)
    for size in (32, 64):
        variants[f"sound: standardised, PCA {size}"] = ((mean - centre) / spread) @ axes[:size].T
    return variants


def duplicates(data: Path) -> None:
    """Sounds of one recording in two encodings, against the closest distinct songs."""
    from app.audio import decode
    from app.model import EmotionModel

    clips = sorted((data / "fullband").rglob("*.ogg"))
    if not clips:
        print("duplicates: ../shared/datasets/fullband is absent; skipped")
        return
    embedder = EmotionModel(default_model_path()).embedder  # the network the service runs

    def sound(path: Path) -> tuple[np.ndarray, float]:
        audio = decode(path)
        return table.sound_of(embedder.embed(audio.mono)[EMBEDDING_OUTPUT]), audio.duration_s

    same, durations = [], []
    for clip in clips:
        kind = clip.parent.name
        (a, da), (b, db) = sound(clip), sound(data / kind / "audio" / f"{clip.stem}.mp3")
        same.append(float(cosine_matrix(np.stack([a, b]))[0, 1]))
        durations.append(abs(da - db))
    same = np.array(same)
    print(
        f"one recording, two encodings ({len(clips)} clips, full-band Ogg against 48-kbps "
        f"MP3): cosine distance median {np.median(same):.4f}, largest {same.max():.4f}; "
        f"{np.mean(same <= DUPLICATE_SOUND):.0%} within the duplicate bound "
        f"{DUPLICATE_SOUND:g}; durations differ by at most {max(durations):.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--cache", type=Path, default=Path(".cache/features"))
    parser.add_argument("--musicnn-cache", type=Path, default=Path(".cache/musicnn"))
    parser.add_argument("--oof-cache", type=Path, default=Path(".cache/search"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--ensemble", type=int, default=1, help="seeds per fold's network")
    parser.add_argument(
        "--valence-arousal",
        choices=("network", "linear"),
        default="network",
        help="what predicts the songs' valence and arousal out of fold",
    )
    parser.add_argument(
        "--out-of-fold",
        type=Path,
        help="instead, the CSV that music-emotion-train --oof wrote (the outer CV that "
        "made the shipped model)",
    )
    parser.add_argument("--k", type=int, nargs="+", default=[5, 10])
    args = parser.parse_args()

    from training.data import make_songs
    from training.datasets import load
    from training.features import extract_all
    from training.musicnn_features import embed_all

    items = [item for name in SETS for item in load(name, args.data)]
    paths = [item.path for item in items]
    features = extract_all(paths, args.cache, jobs=1, progress=False)
    patches = [e[EMBEDDING_OUTPUT] for e in embed_all(paths, args.musicnn_cache, progress=False)]
    config = shipped_config(args.ensemble)
    songs = make_songs(items, features, train_hop_s=config.train_hop_s, embeddings=patches)
    if args.out_of_fold:
        from training.out_of_fold import read_out_of_fold

        served = read_out_of_fold(args.out_of_fold)
        points = np.array([served[path.resolve()] for path in paths])
        how = f"the training's outer cross-validation, {args.out_of_fold.name}"
    elif args.valence_arousal == "network":
        points = out_of_fold_points(songs, config, args.folds, args.oof_cache)
        how = f"the shipped configuration with {args.ensemble} seed(s) per fold"
    else:
        points = out_of_fold_linear(songs, args.folds)
        how = "the card's linear baselines, per set"
    print(f"{len(songs)} songs; valence and arousal out of fold ({args.folds} folds, {how})")
    for name, label in SETS.items():
        members = np.array([i for i, s in enumerate(songs) if s.dataset == name])
        others = [patches[i] for i, s in enumerate(songs) if s.dataset != name]
        labels = np.array([getattr(songs[i], label) for i in members])
        plane = plane_matrix(points[members])
        variants = sound_variants([patches[i] for i in members], others)
        sound = cosine_matrix(variants["sound (the column: mean, 200)"])
        rows = {"chance": {k: chance(labels) for k in args.k}}
        rows["plane (valence, arousal)"] = {k: agreement(plane, labels, k) for k in args.k}
        for variant, vectors in variants.items():
            rows[variant] = {k: agreement(cosine_matrix(vectors), labels, k) for k in args.k}
        for weight in WEIGHTS:
            rows[f"sound and mood, weight {weight}"] = {
                k: agreement(mixed(sound, plane, weight), labels, k) for k in args.k
            }
        header = "".join(f"{f'k={k}':>8}" for k in args.k)
        print(f"\n{name}: share of the k nearest songs with the song's {label}\n{'':36s}{header}")
        for row, values in rows.items():
            print(f"  {row:34s}" + "".join(f"{values[k]:8.3f}" for k in args.k))
    everyone = cosine_matrix(np.stack([table.sound_of(p) for p in patches]))
    np.fill_diagonal(everyone, np.inf)
    closest = np.sort(everyone.min(axis=1))
    print(
        f"\nclosest distinct songs among all {len(songs)}: cosine distance {closest[0]:.4f} "
        f"(the 1% quantile of each song's nearest: {np.quantile(closest, 0.01):.4f})"
    )
    duplicates(args.data)


if __name__ == "__main__":
    main()
