"""A bounded load test of ``POST /v1/emotion`` on loopback.

Sends ``--requests`` uploads of short synthetic clips with at most ``--concurrency``
in flight, and prints throughput, latency percentiles and the count of each answer.
Past its capacity the service is expected to shed load with 503 + Retry-After
(``--retries`` makes the clients honour it and retry); any other error (a 5xx, a
dropped connection) fails the run (exit status 1).

    python benchmarks/load_test.py                      # starts a server itself
    python benchmarks/load_test.py --url http://127.0.0.1:8000 --json
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

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
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:

        async def one(i: int) -> None:
            nonlocal shed
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
        "errors": sum(n for status, n in counts.items() if status not in ("200", "503")),
        "latency_ms": _percentiles(ok),
    }


def _percentiles(seconds: np.ndarray) -> dict[str, float] | None:
    if not seconds.size:
        return None
    p50, p95, p99 = np.percentile(seconds * 1000, [50, 95, 99])
    return {"p50": round(float(p50)), "p95": round(float(p95)), "p99": round(float(p99))}


@contextmanager
def local_server(env: dict[str, str]) -> Iterator[str]:
    """``music-emotion serve`` on a free loopback port, until the block ends."""
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
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running service; by default one is started here")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--clip-seconds", type=float, default=5.0)
    parser.add_argument(
        "--retries", type=int, default=0, help="retry a 503 after its Retry-After, this often"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    payloads = clips(args.clip_seconds)
    if args.url:
        report = asyncio.run(run(args.url, payloads, args.requests, args.concurrency, args.retries))
    else:
        with local_server({}) as url:
            report = asyncio.run(run(url, payloads, args.requests, args.concurrency, args.retries))
    report["clip_s"] = args.clip_seconds
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>16}: {value}")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
