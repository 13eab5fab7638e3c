"""The ``music-emotion`` command: serve the API, or analyse files from the shell.

``predict`` and ``features`` take many files and pay start-up once; each prints one
JSON object per line (JSON Lines) with ``--json``, or a readable line otherwise.
A file that cannot be analysed gets an ``error`` line and a non-zero exit status,
and the rest are still analysed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path

from app.errors import MusicEmotionError
from app.settings import Settings


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    settings = Settings()
    parser = argparse.ArgumentParser(prog="music-emotion", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default=settings.host)
    serve.add_argument("--port", type=int, default=settings.port)
    serve.add_argument("--workers", type=int, default=settings.workers)

    for name, text in (("predict", "valence, arousal and quadrant"), ("features", "features")):
        command = commands.add_parser(name, help=f"print the {text} of audio files")
        command.add_argument("files", nargs="+", type=Path, metavar="FILE")
        command.add_argument("--json", action="store_true", help="one JSON object per line")
        command.add_argument("--model", type=Path, default=settings.model_path)

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args, settings)
    if args.command == "predict":
        return _predict(args, settings)
    return _features(args, settings)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "app.api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # Shutdown lets the analyses in flight finish (each is bounded by its timeout).
        timeout_graceful_shutdown=int(settings.analysis_timeout_s) + 5,
    )
    return 0


def _predict(args: argparse.Namespace, settings: Settings) -> int:
    from app.analysis import Analyzer

    analyzer = Analyzer(args.model, max_duration_s=settings.max_duration_s, warm_up=False)

    def predict(path: Path) -> dict:
        emotion = analyzer(path)
        return {
            "path": str(path),
            "valence": round(emotion.valence, 4),
            "arousal": round(emotion.arousal, 4),
            "quadrant": emotion.quadrant.value,
        }

    return _run(args.files, predict, args.json)


def _features(args: argparse.Namespace, settings: Settings) -> int:
    from app.audio import decode
    from app.features import extract
    from app.features.windows import windows

    def features(path: Path) -> dict:
        f = extract(decode(path, max_duration_s=settings.max_duration_s).samples)
        first = windows(f)
        return {
            "path": str(path),
            "duration_s": round(f.duration_s, 3),
            "tempo_bpm": f.tempo_bpm,
            "loudness_lufs": f.loudness_lufs,
            "zero_crossings_per_s": f.zero_crossings_per_s,
            "timbre": asdict(f.timbre),
            "window_start_s": float(first.start_s[0]),
            "spectral_centroid": first.spectral[0, 0].tolist(),
            "spectral_rolloff": first.spectral[0, 1].tolist(),
            "mfcc": first.mfcc[0].tolist(),
            "chroma": first.chroma[0].tolist(),
        }

    return _run(args.files, features, args.json)


def _run(files: Iterable[Path], analyse: Callable[[Path], dict], as_json: bool) -> int:
    """Analyse each file, print its line, and return 1 if any failed."""
    status = 0
    for path in files:
        try:
            record = analyse(path)
        except (MusicEmotionError, OSError) as error:
            record = {"path": str(path), "error": str(error)}
            status = 1
        if as_json:
            print(json.dumps(record), flush=True)
        else:
            print(_readable(record), flush=True)
    return status


def _readable(record: dict) -> str:
    """One line of ``key=value`` pairs, leaving out the long arrays."""
    return "  ".join(
        f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}"
        for key, value in record.items()
        if not isinstance(value, (list, dict))
    )


if __name__ == "__main__":
    sys.exit(main())
