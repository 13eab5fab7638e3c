"""Catalogue queries on a synthetic catalogue of a million songs: the index's build time
and memory, and the latency of search, similar and playlist on one core.

    python benchmarks/bench_search.py                       # 10^6 songs
    python benchmarks/bench_search.py --songs 200000 --libraries usearch-f16 usearch-i8 \\
        faiss-hnsw hnswlib --only-libraries                 # the index libraries compared

The catalogue is written as the job writes one (Parquet parts of 100,000 rows, every
column the queries read) into a temporary folder, or ``--out``. Its songs are
synthetic: valence and arousal from a normal distribution clipped to [-1, 1], mood
shares from a Dirichlet, tempo, key, mode and energy uniform, and sound vectors from a
mixture of 2,000 Gaussian clusters whose scale matches musicnn's mean embedding on the
shared songs (per-value mean 0.19 and standard deviation 0.58; cosine distance between
random songs about 0.9). Queries run in this process pinned to one core with one
thread; each figure is the median and 99th percentile over ``--queries`` random queries.

``--libraries`` builds each named index over the same vectors (all cores), in
interleaved steps so that the machine's changing load falls on all alike, and measures
its build time, its size (serialised: vectors and graph, what it holds in memory), the
latency of one 10-nearest query on one core (the libraries queried in turn), and its
recall@10 against exact brute force.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")  # queries run on one core, one thread

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from app import table  # noqa: E402
from app.model import MOODS  # noqa: E402

PART_ROWS = 100_000
CLUSTERS = 2000


def rss_mb() -> float:
    """This process's resident memory now."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def synthetic_sounds(n: int, seed: int = 0) -> np.ndarray:
    """(n, SOUND_SIZE) float32 sound vectors: a mixture of Gaussian clusters."""
    rng = np.random.default_rng(seed)
    centres = (0.19 + 0.55 * rng.standard_normal((CLUSTERS, table.SOUND_SIZE))).astype(np.float32)
    out = np.empty((n, table.SOUND_SIZE), np.float32)
    for start in range(0, n, PART_ROWS):
        stop = min(n, start + PART_ROWS)
        members = rng.integers(0, CLUSTERS, stop - start)
        noise = rng.standard_normal((stop - start, table.SOUND_SIZE), dtype=np.float32)
        out[start:stop] = centres[members] + 0.2 * noise
    return out


def write_catalogue(out: Path, sounds: np.ndarray, seed: int = 1) -> None:
    """A catalogue of ``len(sounds)`` songs in Parquet parts, as the job writes them."""
    rng = np.random.default_rng(seed)
    n = len(sounds)
    out.mkdir(parents=True, exist_ok=True)
    for number, start in enumerate(range(0, n, PART_ROWS)):
        stop = min(n, start + PART_ROWS)
        size = stop - start
        valence = np.clip(rng.normal(0.05, 0.3, size), -1, 1).round(4)
        arousal = np.clip(rng.normal(-0.1, 0.3, size), -1, 1).round(4)
        moods = rng.dirichlet(np.ones(len(MOODS)), size).round(4)
        columns = {
            "path": pa.array([f"/music/{i // 1000:04d}/{i:07d}.mp3" for i in range(start, stop)]),
            "size_bytes": pa.array(rng.integers(2_000_000, 9_000_000, size)),
            "modified": pa.array(
                np.full(size, 1_700_000_000_000_000_000), pa.timestamp("ns", "UTC")
            ),
            "valence": pa.array(valence),
            "arousal": pa.array(arousal),
            "quadrant": pa.array(["q"] * size),
            "duration_s": pa.array(rng.uniform(120, 360, size).round(4)),
            "error_type": pa.nulls(size, pa.string()),
            **{table.MOOD_COLUMNS[mood]: pa.array(moods[:, k]) for k, mood in enumerate(MOODS)},
            "tempo": pa.array(rng.uniform(60, 200, size).round(2)),
            "key": pa.array(rng.integers(0, 12, size)),
            "mode": pa.array(rng.integers(0, 2, size)),
            "energy": pa.array(rng.uniform(0, 1, size).round(4)),
            table.SOUND: pa.FixedSizeListArray.from_arrays(
                pa.array(sounds[start:stop].ravel()), table.SOUND_SIZE
            ),
        }
        pq.write_table(pa.table(columns), out / f"part-{number:05d}.parquet")


def percentiles(seconds: list[float]) -> str:
    ms = np.asarray(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):7.2f} ms   p99 {np.percentile(ms, 99):7.2f} ms"


def time_queries(catalogue, queries: int, seed: int = 2) -> None:
    """Latency of each query on one core."""
    from app.search.filters import Filters

    rng = np.random.default_rng(seed)
    n = len(catalogue.songs)
    points = rng.uniform(-0.8, 0.8, (queries, 2))
    songs = rng.integers(0, n, queries)
    kinds = {
        "search (10 nearest)": lambda i: catalogue.search(*points[i], limit=10),
        "search, quadrant and tempo": lambda i: catalogue.search(
            *points[i], limit=10, filters=Filters(quadrant=1 + i % 4, tempo_min=90, tempo_max=130)
        ),
        "search by mood": lambda i: catalogue.search(mood=MOODS[i % len(MOODS)], limit=10),
        "similar (10)": lambda i: catalogue.similar(catalogue.songs.path(int(songs[i])), limit=10),
        "playlist (10 songs)": lambda i: catalogue.playlist(
            tuple(points[i]), tuple(-points[i]), 10
        ),
        "playlist (30 songs)": lambda i: catalogue.playlist(
            tuple(points[i]), tuple(-points[i]), 30
        ),
    }
    for name, query in kinds.items():
        query(0)  # first call pays lazy initialisation
        seconds = []
        for i in range(queries):
            start = time.perf_counter()
            query(i)
            seconds.append(time.perf_counter() - start)
        print(f"  {name:28s} {percentiles(seconds)}", flush=True)


class Library:
    """One nearest-neighbour library's index, built in steps (cosine distance, the same
    graph parameters for all: 16 links a node, 128 candidates while adding, 64 while
    searching)."""

    def __init__(self, name: str, size: int, threads: int) -> None:
        self.name, self.threads, self.build_s = name, threads, 0.0
        dim = table.SOUND_SIZE
        if name.startswith("usearch"):
            from usearch.index import Index

            self.index = Index(
                ndim=dim,
                metric="cos",
                dtype=name.split("-")[1],
                connectivity=16,
                expansion_add=128,
                expansion_search=64,
            )
        elif name == "faiss-hnsw":
            import faiss

            self.index = faiss.IndexHNSWFlat(dim, 16, faiss.METRIC_INNER_PRODUCT)
            self.index.hnsw.efConstruction = 128
            self.index.hnsw.efSearch = 64
        elif name == "hnswlib":
            import hnswlib

            self.index = hnswlib.Index(space="cosine", dim=dim)
            self.index.init_index(max_elements=size, ef_construction=128, M=16)
            self.index.set_ef(64)
        else:
            raise SystemExit(f"unknown library {name}")

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        start = time.perf_counter()
        if self.name.startswith("usearch"):
            self.index.add(keys, vectors, threads=self.threads)
        elif self.name == "faiss-hnsw":
            import faiss

            faiss.omp_set_num_threads(self.threads)
            self.index.add(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
        else:
            self.index.set_num_threads(self.threads)
            self.index.add_items(vectors, keys)
        self.build_s += time.perf_counter() - start

    def search(self, query: np.ndarray) -> np.ndarray:
        """The 10 nearest, on one thread."""
        if self.name.startswith("usearch"):
            return self.index.search(query, 10, threads=1).keys
        if self.name == "faiss-hnsw":
            import faiss

            faiss.omp_set_num_threads(1)
            return self.index.search((query / np.linalg.norm(query))[None], 10)[1][0]
        self.index.set_num_threads(1)
        return self.index.knn_query(query, 10)[0][0]

    def size_mb(self) -> float:
        """The index serialised: its vectors and graph, what it holds in memory."""
        if self.name.startswith("usearch"):
            return len(self.index.save()) / 2**20
        if self.name == "faiss-hnsw":
            import faiss

            return faiss.serialize_index(self.index).nbytes / 2**20
        with tempfile.NamedTemporaryFile() as file:
            self.index.save_index(file.name)
            return os.path.getsize(file.name) / 2**20


def compare_libraries(names: list[str], vectors: np.ndarray, queries: int) -> None:
    """Build every library's index over ``vectors`` in interleaved steps (so a changing
    load falls on all alike), then time the same queries on each in turn."""
    rng = np.random.default_rng(3)
    asked = vectors[rng.integers(0, len(vectors), queries)]
    asked = asked + 0.05 * rng.standard_normal(asked.shape, dtype=np.float32)
    normed = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    truth = [
        set(np.argpartition(-(normed @ (q / np.linalg.norm(q))), 10)[:10].tolist()) for q in asked
    ]
    del normed
    threads = len(os.sched_getaffinity(0))
    libraries = [Library(name, len(vectors), threads) for name in names]
    step = 10_000
    for number, start in enumerate(range(0, len(vectors), step)):
        keys = np.arange(start, min(len(vectors), start + step))
        turn = number % len(libraries)  # each library goes first in turn
        for library in libraries[turn:] + libraries[:turn]:
            library.add(keys, vectors[keys])
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    latencies = {library.name: [] for library in libraries}
    recall = {library.name: [] for library in libraries}
    for query, expected in zip(asked, truth, strict=True):
        for library in libraries:
            start = time.perf_counter()
            found = library.search(query)
            latencies[library.name].append(time.perf_counter() - start)
            recall[library.name].append(len(expected & set(np.asarray(found).tolist())) / 10)
    os.sched_setaffinity(0, cores)
    print(
        f"index libraries, {len(vectors):,} vectors of {vectors.shape[1]}, built in interleaved "
        f"steps of {step:,} on {threads} cores, queried in turn on one core:"
    )
    for library in libraries:
        print(
            f"  {library.name:12s} build {library.build_s:7.1f} s   "
            f"size {library.size_mb():6.0f} MB   {percentiles(latencies[library.name])}   "
            f"recall@10 {np.mean(recall[library.name]):.3f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--out", type=Path, help="write the catalogue here (kept)")
    parser.add_argument("--libraries", nargs="*", default=[], metavar="NAME")
    parser.add_argument("--only-libraries", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="  %(message)s")

    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}", flush=True)
    start = time.perf_counter()
    sounds = synthetic_sounds(args.songs)
    if args.libraries:
        compare_libraries(args.libraries, sounds, args.queries)
    if args.only_libraries:
        return
    with tempfile.TemporaryDirectory(dir=args.out.parent if args.out else None) as scratch:
        out = args.out or Path(scratch) / "catalogue"
        write_catalogue(out, sounds)
        del sounds
        gc.collect()
        print(
            f"catalogue of {args.songs:,} songs written in {time.perf_counter() - start:.0f} s "
            f"({sum(p.stat().st_size for p in out.glob('*.parquet')) / 2**20:.0f} MB)"
        )
        time_catalogue(out, args.queries)


def time_catalogue(out: Path, queries: int) -> None:
    from app.search.catalogue import Catalogue
    from app.search.index import FOLDER

    before = rss_mb()
    start = time.perf_counter()
    catalogue = Catalogue.open(str(out))
    first = time.perf_counter() - start
    print(
        f"first open (read the songs, build the index, write it): {first:.1f} s, "
        f"memory +{rss_mb() - before:.0f} MB"
    )
    index_mb = sum(p.stat().st_size for p in (out / FOLDER).iterdir()) / 2**20
    del catalogue
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    catalogue = Catalogue.open(str(out))
    print(
        f"next open (read the songs, check and map the index of {index_mb:.0f} MB): "
        f"{time.perf_counter() - start:.1f} s, memory +{rss_mb() - before:.0f} MB "
        "(the mapped index's pages count once touched)"
    )
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"queries on one core, {queries} each:")
    time_queries(catalogue, queries)
    print(f"memory after the queries: {rss_mb():.0f} MB in all")


if __name__ == "__main__":
    main()
