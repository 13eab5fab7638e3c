"""The image's size and start-up time, run the way Kubernetes runs it.

Each start is a fresh container on a read-only root filesystem with an empty tmpfs at
/tmp and no volume; the time runs from ``docker run`` to the first 200 from
``/v2/health/ready``. Started with the image's entrypoint (which copies the numba
cache compiled at build time to the tmpfs) and, for comparison, without it (numba
then compiles every kernel at start).

    python benchmarks/bench_container.py --image music-emotion:0.1.0 --starts 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import httpx


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def seconds_to_ready(image: str, warm: bool) -> float:
    """Time from ``docker run`` to readiness of one fresh read-only container."""
    skip_entrypoint = [] if warm else ["--entrypoint", "music-emotion"]
    command = [] if warm else ["serve"]
    run = ["run", "-d", "--read-only", "--tmpfs", "/tmp:size=512m", *skip_entrypoint, image]
    start = time.monotonic()
    container = docker(*run, *command).strip()
    try:
        networks = json.loads(docker("inspect", container))[0]["NetworkSettings"]["Networks"]
        url = f"http://{next(iter(networks.values()))['IPAddress']}:8000/v2/health/ready"
        while True:
            try:
                if httpx.get(url, timeout=5).status_code == 200:
                    return time.monotonic() - start
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    finally:
        docker("rm", "-f", container)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="music-emotion:0.1.0")
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args(argv)

    load_average = round(os.getloadavg()[0], 1)
    size_mb = int(docker("image", "inspect", "-f", "{{.Size}}", args.image)) / 1e6
    warm = sorted(seconds_to_ready(args.image, warm=True) for _ in range(args.starts))
    cold = seconds_to_ready(args.image, warm=False)
    median = warm[len(warm) // 2]
    print(f"image {args.image}: {size_mb:.0f} MB")
    print(f"ready, baked numba cache (median of {args.starts}): {median:.1f} s")
    print(f"ready, numba compiling at start: {cold:.1f} s ({cold / median:.1f}x)")
    print(f"load average before the run: {load_average}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
