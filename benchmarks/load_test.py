"""A bounded load test of ``POST /v1/emotion`` on loopback.

Sends ``--requests`` uploads with at most ``--concurrency`` in flight: the first
``--clip-seconds`` of a real song (``--clip``, re-encoded to MP3), or short synthetic
clips without it. Prints throughput, latency percentiles, the count of each answer
and, for a server it started itself, the peak memory of the server's processes.
Past what it can answer within its wait limit the service is expected to refuse with
503 + Retry-After (``--retries`` makes the clients honour it and retry); any other
answer (a 5xx, a dropped connection, a 503 without Retry-After) fails the run (exit
status 1).

With ``--at-start``, each ``--concurrency`` gets a service started for it, and the
burst is sent the moment its ``/v2/health/ready`` answers 200 (polled every 20 ms):
what a service that has analysed nothing yet admits and answers.

    python benchmarks/load_test.py --clip /usr/share/games/wesnoth/1.16/data/core/music/battle.ogg --clip-seconds 30
    python benchmarks/load_test.py --clip .../battle.ogg --clip-seconds 30 --at-start --concurrency 16 64
    python benchmarks/load_test.py --url http://127.0.0.1:8000 --json
"""  # noqa: E501

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

FORMATS = ("WAV", "FLAC", "MP3")


def clips(seconds: float, n: int = 6, sr: int = 44100) -> list[bytes]:
    """``n`` different chord-and-noise clips of ``seconds``, in WAV, FLAC and MP3."""
    t = np.arange(int(seconds * sr)) / sr
    out = []
    for i in range(n):
        root = 196.0 * 2 ** (i / 12)
        y = sum(np.sin(2 * np.pi * root * r * t) for r in (1.0, 1.26, 1.5)) / 4
        y = y * (0.6 + 0.4 * (np.sin(2 * np.pi * (1 + i) * t) > 0))
        y += np.random.default_rng(i).standard_normal(t.size) * 0.02
        buffer = io.BytesIO()
        sf.write(buffer, y.astype(np.float32), sr, format=FORMATS[i % len(FORMATS)])
        out.append(buffer.getvalue())
    return out


def real_clip(path: Path, seconds: float) -> list[bytes]:
    """The first ``seconds`` of the song at ``path``, as an MP3 at its own rate."""
    with sf.SoundFile(path) as song:
        samples = song.read(int(seconds * song.samplerate), dtype="float32")
        buffer = io.BytesIO()
        sf.write(buffer, samples, song.samplerate, format="MP3")
    return [buffer.getvalue()]


async def run(
    url: str, payloads: list[bytes], requests: int, concurrency: int, retries: int = 0
) -> dict:
    """Send the requests; return the counts per status and the latency figures.

    With ``retries``, a 503 is retried after its Retry-After as a well-behaved client
    would; a request's latency runs from its first try to its final answer.
    """
    semaphore = asyncio.Semaphore(concurrency)
    finals: list[tuple[str, float]] = []
    shed = 0
    no_retry_after = 0
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:

        async def one(i: int) -> None:
            nonlocal shed, no_retry_after
            async with semaphore:
                start = time.perf_counter()
                for _ in range(retries + 1):
                    try:
                        files = {"file": (f"clip{i}", payloads[i % len(payloads)])}
                        response = await client.post("/v1/emotion", files=files)
                    except httpx.TransportError as error:
                        status = type(error).__name__
                        break
                    status = str(response.status_code)
                    if response.status_code != 503:
                        break
                    shed += 1
                    if "Retry-After" not in response.headers:
                        no_retry_after += 1
                    await asyncio.sleep(float(response.headers.get("Retry-After", 1)))
                finals.append((status, time.perf_counter() - start))

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(requests)))
        wall = time.perf_counter() - start

    ok = np.array([s for status, s in finals if status == "200"])
    counts = Counter(status for status, _ in finals)
    return {
        "requests": requests,
        "concurrency": concurrency,
        "wall_s": round(wall, 2),
        "throughput_rps": round(ok.size / wall, 2),
        "final_statuses": dict(sorted(counts.items())),
        "answers_503": shed,
        "errors": sum(n for status, n in counts.items() if status not in ("200", "503"))
        + no_retry_after,
        "latency_ms": _percentiles(ok),
    }


def _percentiles(seconds: np.ndarray) -> dict[str, float] | None:
    if not seconds.size:
        return None
    p50, p95, p99 = np.percentile(seconds * 1000, [50, 95, 99])
    return {"p50": round(float(p50)), "p95": round(float(p95)), "p99": round(float(p99))}


class PeakMemory:
    """The peak summed resident memory of a process and its children, sampled."""

    def __init__(self, pid: int, every_s: float = 0.2) -> None:
        self.pid = pid
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every_s,), daemon=True)
        self._thread.start()

    def stop(self) -> float:
        """Stop sampling; the peak in MB."""
        self._stop.set()
        self._thread.join()
        return round(self.peak_mb)

    def _sample(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            pids = [self.pid, *_children(self.pid)]
            self.peak_mb = max(self.peak_mb, sum(_rss_mb(pid) for pid in pids))


def _children(pid: int) -> list[int]:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        found = [int(c) for task in tasks for c in (task / "children").read_text().split()]
    except OSError:  # gone while we looked
        return []
    return found + [grandchild for child in found for grandchild in _children(child)]


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    kb = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return int(kb) / 1024


@contextmanager
def local_server(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """``music-emotion serve`` on a free loopback port, until the block ends: its URL
    and process id."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            try:
                if httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running service; by default one is started here")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16])
    parser.add_argument(
        "--at-start",
        action="store_true",
        help="a new service for each concurrency, the burst sent as soon as it is ready",
    )
    parser.add_argument("--clip", type=Path, help="a real song to send (else synthetic clips)")
    parser.add_argument("--clip-seconds", type=float, default=5.0)
    parser.add_argument(
        "--retries", type=int, default=0, help="retry a 503 after its Retry-After, this often"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    # Other work on the machine, before this run adds its own.
    load_average = round(os.getloadavg()[0], 1)
    payloads = real_clip(args.clip, args.clip_seconds) if args.clip else clips(args.clip_seconds)

    def burst(url: str, concurrency: int) -> dict:
        return asyncio.run(run(url, payloads, args.requests, concurrency, args.retries))

    reports = []
    if args.url:
        reports = [burst(args.url, c) for c in args.concurrency]
    elif args.at_start:
        for concurrency in args.concurrency:
            with local_server({}) as (url, pid):
                memory = PeakMemory(pid)
                reports.append(burst(url, concurrency))
                reports[-1]["server_peak_rss_mb"] = memory.stop()
    else:
        with local_server({}) as (url, pid):
            memory = PeakMemory(pid)
            reports = [burst(url, c) for c in args.concurrency]
            reports[-1]["server_peak_rss_mb"] = memory.stop()
    for report in reports:
        report["clip"] = str(args.clip or "synthetic")
        report["clip_s"] = args.clip_seconds
        report["at_start"] = args.at_start
        report["load_average_before"] = load_average
        if args.json:
            print(json.dumps(report))
        else:
            print("\n".join(f"{key:>16}: {value}" for key, value in report.items()) + "\n")
    return 1 if any(report["errors"] for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
