"""Speed of the whole analysis path, against decoding and against the seed's way.

Usage (from the repository root, venv active)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_speed.py \
        [--model DIR] [--clips N] [--runs 5] [--seed-runs 3] [--seed-python PATH] [--jobs 2]

On real 60-s clips of ``../shared/datasets`` (or ``--files``), single-threaded: each run
decodes a clip, then analyses the same file through :class:`app.analysis.Analyzer` (decode,
every feature, the ONNX model), so both are measured side by side; the medians and their
ratio are printed, with the median time of every feature stage. The seed's way (``librosa.load``,
one librosa call per feature, pyloudnorm, and ``timbral_models.timbral_extractor`` on the
file) runs in ``--seed-python`` when that interpreter has ``timbral_models`` (default
``/tmp/tmref/bin/python``); otherwise only the per-feature librosa calls are timed, here, and
the output says so. Then ``--jobs`` processes analyse the clips concurrently to show the
throughput of several cores. Last, on long real songs (``--songs``; by default the tracks of
four minutes or more of Debian's ``wesnoth-1.16-music``, full-length orchestral music), the
analysis of their first four minutes is timed against that of their first minute and against
decoding the four minutes (the song-level descriptors' budget bounds the cost of a song).

The BLAS kernel numpy uses is printed: ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE``, when
set, make it slower; unset both for this command alone, as above.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATASETS = REPO / ".." / "shared" / "datasets"
SEED_PYTHON = Path("/tmp/tmref/bin/python")
clock = time.perf_counter
"""The clock every single-threaded figure is read from (``--clock``)."""
LONG_SONGS = Path("/usr/share/games/wesnoth/1.16/data/core/music")
"""Where Debian's ``wesnoth-1.16-music`` installs its tracks (``apt-get install`` it)."""

from app.features.timbre import Timbre  # noqa: E402  (the repository is on the path now)

TIMBRE = tuple(field.name for field in fields(Timbre))

# The seed's way: load with librosa, then one librosa (or pyloudnorm) call per feature,
# each recomputing its own spectrogram, and timbral_models on the file when installed.
SEED_SCRIPT = textwrap.dedent("""
    import json, sys, time
    import numpy as np, librosa, pyloudnorm
    try:
        import timbral_models
    except ImportError:
        timbral_models = None
    path, runs, clock = sys.argv[1], int(sys.argv[2]), getattr(time, sys.argv[3])

    def seed(path):
        y, sr = librosa.load(path, sr=22050)
        librosa.feature.spectral_centroid(y=y, sr=sr, hop_length=441)
        librosa.feature.spectral_rolloff(y=y, sr=sr, hop_length=441)
        librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, hop_length=441)
        librosa.feature.chroma_stft(y=y, sr=sr, hop_length=441)
        tempo = getattr(librosa.feature, "tempo", None) or librosa.beat.tempo
        tempo(y=y, sr=sr, hop_length=441)
        pyloudnorm.Meter(sr).integrated_loudness(y)
        np.where(np.diff(np.sign(y)))[0].size / (len(y) / sr)
        if timbral_models is not None:
            timbral_models.timbral_extractor(path, verbose=False)

    seed(path)  # imports, numba compilation
    times = []
    for _ in range(runs):
        start = clock()
        seed(path)
        times.append(clock() - start)
    print(json.dumps({"times": times, "timbral_models": timbral_models is not None}))
""")


def blas_kernels() -> str:
    """The BLAS libraries numpy loaded and the kernel each selected."""
    found = {
        (i["internal_api"], i.get("architecture"), i["num_threads"]) for i in threadpool_info()
    }
    return ", ".join(f"{api} {arch} ({threads} thread(s))" for api, arch, threads in sorted(found))


def default_clips(n: int) -> list[Path]:
    """The first ``n`` clips of the timbral reference set (60-s songs)."""
    rows = csv.DictReader((DATASETS / "timbral_reference.csv").open())
    return [DATASETS / row["file"] for row, _ in zip(rows, range(n), strict=False)]


def stage_times(samples: np.ndarray, embedder=None) -> dict[str, float]:
    """Seconds spent in each feature stage of ``extract`` on decoded ``samples``.

    The intermediates several timbral descriptors share (the 22.05-kHz audio, the onset
    strength, the windowed specific loudness) are timed on their own first. With the
    model's musicnn ``embedder``, its log-mel front-end and network (onnxruntime) too.
    """
    from app.features import DEFAULT_CONFIG, SAMPLE_RATE
    from app.features import timbre as timbre_module
    from app.features.loudness import integrated_loudness_and_mix
    from app.features.musicnn import musicnn_patches
    from app.features.spectral import spectral_features
    from app.features.timbre.envelope import onset_strength
    from app.features.timbre.loudness_model import windowed_specific_loudness
    from app.features.timbre.prepare import half_rate, prepare
    from app.features.zero_crossings import zero_crossings_per_s

    mono = samples.mean(axis=0)
    out = {}

    def timed(name, func, *args):
        start = clock()
        result = func(*args)
        out[name] = clock() - start
        return result

    _, mono_loudness = timed("loudness", integrated_loudness_and_mix, samples, SAMPLE_RATE)
    timed("spectral", spectral_features, mono, DEFAULT_CONFIG)
    timed("zero_crossings", zero_crossings_per_s, mono, SAMPLE_RATE)
    audio, fs = timed("prepare", prepare, mono, SAMPLE_RATE, mono_loudness)
    timed("onset_strength", onset_strength, *half_rate(audio, fs))
    timed("specific_loudness", windowed_specific_loudness, audio, fs)
    for name in TIMBRE:
        timed(name, getattr(timbre_module, name), audio, fs)
    if embedder is not None:
        patches = timed("musicnn_logmel", musicnn_patches, mono, SAMPLE_RATE)
        timed("musicnn_network", embedder, patches)
    return out


def measure(clips: list[Path], model: Path, runs: int) -> dict[str, list[float]]:
    """The first request after start, then per clip and run: decode alone, the whole
    analysis, and the feature stages."""
    from app.analysis import Analyzer
    from app.audio import decode

    analyzer = Analyzer(model)  # the service's start: warms every compiled path up
    start = clock()
    analyzer(clips[0])
    times: dict[str, list[float]] = {"first": [clock() - start]}
    times.update(decode=[], pipeline=[])
    for _ in range(runs):
        for clip in clips:
            start = clock()
            audio = decode(clip)
            times["decode"].append(clock() - start)
            start = clock()
            emotion = analyzer(clip)
            times["pipeline"].append(clock() - start)
            for stage, seconds in emotion.timings_s.items():
                times.setdefault(f"stage {stage}", []).append(seconds)
            for name, seconds in stage_times(audio.samples, analyzer.model.embedder).items():
                times.setdefault(name, []).append(seconds)
    return times


def seed_way(clip: Path, runs: int, seed_python: Path) -> tuple[list[float], str]:
    """Times of the seed's way on ``clip`` and a description of what ran."""
    python = seed_python if seed_python.is_file() else Path(sys.executable)
    single = {
        var: "1"
        for var in (
            "OMP_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "MKL_NUM_THREADS",
            "NUMBA_NUM_THREADS",
        )
    }
    result = subprocess.run(
        [str(python), "-c", SEED_SCRIPT, str(clip), str(runs), clock.__name__],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **single},
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if report["timbral_models"]:
        what = f"per-feature librosa calls + timbral_models ({python})"
    else:
        what = (
            f"per-feature librosa calls only: timbral_models is not installed in {python}, "
            "so the seed's timbral cost is missing and the ratio understates it"
        )
    return report["times"], what


_worker_analyzer = None


def _start_worker(model: str) -> None:
    global _worker_analyzer
    from app.analysis import Analyzer

    threadpool_limits(1)
    _worker_analyzer = Analyzer(Path(model))


def _analyse(clip: str) -> None:
    _worker_analyzer(clip)


def throughput(clips: list[Path], model: Path, jobs: int, rounds: int = 3) -> float:
    """Clips analysed per second by ``jobs`` single-threaded processes, each warmed up."""
    tasks = [str(c) for c in clips] * rounds
    with ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=(str(model),)) as pool:
        list(pool.map(_analyse, tasks[:jobs]))  # every worker started and warmed up
        start = time.perf_counter()
        list(pool.map(_analyse, tasks))
        return len(tasks) / (time.perf_counter() - start)


def default_songs() -> list[Path]:
    """The installed Wesnoth tracks of four minutes or more."""
    import soundfile as sf

    return [p for p in sorted(LONG_SONGS.glob("*.ogg")) if sf.info(p).duration >= 240.0]


def song_costs(songs: list[Path], model: Path, runs: int) -> dict[str, list[float]]:
    """Per song and run: decoding its first four minutes, analysing them (decoding
    included), and analysing its first minute."""
    from app.analysis import Analyzer
    from app.audio import decode

    one, four = (Analyzer(model, max_duration_s=s) for s in (60.0, 240.0))
    work = {
        "decode 4 min": lambda song: decode(song, max_duration_s=240.0),
        "analyse 4 min": four,
        "analyse 1 min": one,
    }
    times: dict[str, list[float]] = {name: [] for name in work}
    for _ in range(runs):
        for song in songs:
            for name, call in work.items():
                start = clock()
                result = call(song)
                times[name].append(clock() - start)
                for stage, seconds in getattr(result, "timings_s", {}).items():
                    times.setdefault(f"{name[-5:]}: {stage}", []).append(seconds)
    return times


def main() -> None:
    from app.settings import default_model_path

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--files", type=Path, nargs="*")
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed-runs", type=int, default=3)
    parser.add_argument("--seed-python", type=Path, default=SEED_PYTHON)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--songs", type=Path, nargs="*", help="long songs (>= 4 min)")
    parser.add_argument("--song-runs", type=int, default=3)
    parser.add_argument("--only-songs", action="store_true", help="only the long songs' part")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: the process's CPU time, steadier than wall time on a shared machine",
    )
    args = parser.parse_args()
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    if not (args.model / "model.onnx").is_file():
        sys.exit(f"no model at {args.model}: pass --model DIR (a folder with model.onnx)")
    clips = args.files or default_clips(args.clips)
    threadpool_limits(1)  # single-threaded figures

    print(f"BLAS: {blas_kernels()}; clock: {args.clock}; load average: {os.getloadavg()}")
    if not args.only_songs:
        clip_figures(clips, args)
    long_song_figures(args)


def clip_figures(clips: list[Path], args: argparse.Namespace) -> None:
    """The figures of the 60-s clips: stages, ratios, first request, seed, throughput."""
    print(f"clips: {', '.join(c.name for c in clips)}; {args.runs} runs each")
    times = measure(clips, args.model, args.runs)
    first = times.pop("first")[0]
    med = {name: float(np.median(values)) for name, values in times.items()}
    print("\nsingle-threaded medians (ms); 'stage' rows: the analysis's own stages, as the")
    print("service's per-stage metrics count them (wall clock inside the analysis):")
    for name, seconds in med.items():
        print(f"  {name:22s} {seconds * 1e3:8.1f}")
    shared = ("prepare", "onset_strength", "specific_loudness")
    print(f"  {'timbre total':15s} {sum(med[n] for n in TIMBRE + shared) * 1e3:8.1f}")
    ratio = med["pipeline"] / med["decode"]
    print(f"\npipeline / decoding: {ratio:.2f}x (target <= 3x)")
    if "musicnn_network" in med:
        embedding = med["musicnn_logmel"] + med["musicnn_network"]
        print(
            f"musicnn embedding (log-mel + network): {embedding * 1e3:.0f} ms, "
            f"{embedding / med['pipeline']:.0%} of the pipeline; the pipeline without it "
            f"/ decoding: {(med['pipeline'] - embedding) / med['decode']:.2f}x"
        )

    seed_times, what = seed_way(clips[0], args.seed_runs, args.seed_python)
    ours = float(np.median(times["pipeline"][:: len(clips)]))  # the same clip
    print(
        f"first request after start on {clips[0].name}: {first * 1e3:.0f} ms, "
        f"{first / ours:.2f}x later ones (target <= 2x)"
    )
    seed = float(np.median(seed_times))
    print(f"seed's way on {clips[0].name}: {seed:.2f} s median of {len(seed_times)} ({what})")
    print(f"seed / pipeline: {seed / ours:.0f}x (target >= 150x)")

    rate = throughput(clips, args.model, args.jobs)
    one = 1.0 / med["pipeline"]
    against = f"{rate / one:.2f}x one core's {one:.2f}"
    if args.clock == "cpu":
        against = "wall time: not compared with CPU times"
    print(f"\n{args.jobs} processes: {rate:.2f} clips/s ({against})")


def long_song_figures(args: argparse.Namespace) -> None:
    """The long songs' figures: their first four minutes against one minute and decoding."""
    songs = args.songs if args.songs is not None else default_songs()
    if not songs:
        print(f"\nno long songs: install wesnoth-1.16-music ({LONG_SONGS}) or pass --songs")
        return
    print(f"\n{len(songs)} long songs, {args.song_runs} runs each; single-threaded medians (ms):")
    song_med = {
        k: float(np.median(v)) for k, v in song_costs(songs, args.model, args.song_runs).items()
    }
    for name, seconds in song_med.items():
        print(f"  {name:24s} {seconds * 1e3:8.1f}")
    four, one_minute = song_med["analyse 4 min"], song_med["analyse 1 min"]
    print(f"4-min / 1-min analysis: {four / one_minute:.2f}x (target <= 2x)")
    print(f"4-min analysis / decoding: {four / song_med['decode 4 min']:.2f}x (target <= 6x)")


if __name__ == "__main__":
    main()
