"""The ``music-emotion`` command: serve the API, or analyse files from the shell.

``predict``, ``features`` and ``audio-features`` take many files and pay start-up once;
each prints one JSON object per line (JSON Lines) with ``--json``, or a readable line
otherwise.
A file that cannot be analysed gets an ``error`` line and a non-zero exit status,
and the rest are still analysed.
"""

from __future__ import annotations

import argparse
import copy
import errno
import json
import socket
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from app.audio_features import calibration_of
from app.catalogue import cli as catalogue
from app.errors import AudioFeaturesUnavailableError, ModelContractError, MusicEmotionError
from app.problems import problem_of
from app.result import (
    Confidence,
    feature_series,
    feature_summary,
    reported_audio_features,
    rounded,
)
from app.search import cli as search
from app.settings import Settings

if TYPE_CHECKING:
    from app.analysis import Emotion
    from app.model import EmotionModel

DESCRIPTION = "Serve the music-emotion API, or analyse audio files from the shell."

EXIT_STATUSES = """\
exit status:
  0  every file was analysed
  1  some file could not be analysed (its line says why; the others were analysed)
  2  the command was misused, or the model could not be loaded (or, for
     audio-features, has no audio features)"""

SERVE_EXIT_STATUSES = """\
exit status:
  0  the service was stopped (Ctrl-C, SIGTERM) after answering the requests in flight
  2  the command was misused, the model could not be loaded, or the port is in use
     (another process listens on it: choose another with --port)"""

MODEL_HELP = (
    "folder holding model.onnx and card.json (default: the MUSIC_EMOTION_MODEL_PATH "
    "setting, else the model installed with the package)"
)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    settings = Settings()
    parser = argparse.ArgumentParser(
        prog="music-emotion",
        description=DESCRIPTION,
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the HTTP service",
        description="Run the HTTP service: the API, its documentation at /docs and the page "
        "at /.\nEach option's default is its setting's (an environment variable or .env file).",
        epilog=SERVE_EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument(
        "--host",
        default=settings.host,
        help="the address to listen on; 0.0.0.0 for every interface "
        "(default: %(default)s, the setting MUSIC_EMOTION_HOST)",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=settings.port,
        help="the TCP port to listen on (default: %(default)s, the setting MUSIC_EMOTION_PORT)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=settings.workers,
        metavar="N",
        help="HTTP server processes, each with MUSIC_EMOTION_ANALYSIS_PROCESSES analysis "
        "processes (default: %(default)s, the setting MUSIC_EMOTION_WORKERS)",
    )

    for name, text in (
        ("predict", "print the valence, arousal and quadrant of each audio file"),
        (
            "features",
            "print the feature summary of each audio file (the API's features=true), "
            "and with --json the whole song's feature series",
        ),
        (
            "audio-features",
            "print Spotify's audio features of each audio file (the API's /v1/audio-features)",
        ),
    ):
        command = commands.add_parser(
            name,
            help=text,
            description=f"{text[0].upper()}{text[1:]}, one line per file.",
            epilog=EXIT_STATUSES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_argument("files", nargs="+", type=Path, metavar="FILE", help="audio files")
        command.add_argument("--json", action="store_true", help="one JSON object per line")
        command.add_argument("--model", type=Path, default=settings.model_path, help=MODEL_HELP)

    catalogue.add_parser(commands)
    search.add_parsers(commands)

    args = parser.parse_args(argv)
    if args.command == "serve" or args.command in RECORDS:
        problem = _model_problem(getattr(args, "model", settings.model_path))
        if problem is not None:
            print(f"music-emotion: {problem}", file=sys.stderr)
            return 2
    if args.command == "serve":
        return _serve(args, settings)
    if args.command == "catalogue":
        status = catalogue.run(args)
        if status in (0, 1):  # the job ran to its end (1: some files are problem rows)
            search.refresh_index(args.out)
        return status
    if args.command in search.COMMANDS:
        return search.run(args)
    return _analyse_files(args, settings)


def _model_problem(path: Path) -> str | None:
    """Why the model at ``path`` cannot be loaded, in one line naming the setting; None if
    it loads."""
    from app.model import EmotionModel

    try:
        EmotionModel(path)
    except ModelContractError as error:
        return (
            f"the model cannot be loaded: {error}. Set MUSIC_EMOTION_MODEL_PATH (or --model) "
            "to a folder holding model.onnx and card.json"
        )
    return None


def _listen_problem(host: str, port: int) -> str | None:
    """Why the service cannot listen on ``host:port``, in one line naming the settings;
    None if it can (a probe: another process may still take the port before uvicorn)."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            return (
                f"port {port} is in use on {host}: another process listens on it; choose "
                "another with --port or the setting MUSIC_EMOTION_PORT"
            )
        return (
            f"cannot listen on {host} port {port}: {error.strerror or error}; check --host and "
            "--port (the settings MUSIC_EMOTION_HOST and MUSIC_EMOTION_PORT)"
        )
    return None


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    problem = _listen_problem(args.host, args.port)
    if problem is not None:
        print(f"music-emotion: {problem}", file=sys.stderr)
        return 2

    # The service's own start-up steps and their timings, beside uvicorn's.
    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["music_emotion"] = {
        "handlers": ["default"],
        "level": "INFO",
        "propagate": False,
    }
    uvicorn.run(
        "app.api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=log_config,
        # Shutdown lets the requests in flight finish: their expected wait, then their
        # analysis (bounded by its timeout).
        timeout_graceful_shutdown=int(settings.max_queue_wait_s + settings.analysis_timeout_s) + 5,
    )
    return 0


def _prediction(path: Path, emotion: Emotion) -> dict:
    """``predict``'s line: the song's valence, arousal and quadrant, and the API's
    ``confidence`` when the model has a calibration."""
    line = {
        "path": str(path),
        "valence": emotion.valence,
        "arousal": emotion.arousal,
        "quadrant": emotion.quadrant.value,
    }
    if emotion.confidence is not None:
        line["confidence"] = Confidence.of(emotion.confidence).model_dump()
    return line


def _features(path: Path, emotion: Emotion) -> dict:
    """``features``' line: the API's feature summary and the whole song's series."""
    return {
        "path": str(path),
        "duration_s": emotion.duration_s,
        "truncated": emotion.truncated,
        **feature_summary(emotion.features),
        "series": feature_series(emotion.features),
    }


def _audio_features(model: EmotionModel) -> Callable[[Path, Emotion], dict]:
    """``audio-features``' line maker for ``model``: the API's AudioFeatures object; raises
    :class:`AudioFeaturesUnavailableError` if the model cannot give it."""
    calibration = calibration_of(model)

    def line(path: Path, emotion: Emotion) -> dict:
        return {"path": str(path), **reported_audio_features(emotion, calibration).to_dict()}

    return line


RECORDS: dict[str, Callable[[EmotionModel], Callable[[Path, Emotion], dict]]] = {
    "predict": lambda model: _prediction,
    "features": lambda model: _features,
    "audio-features": _audio_features,
}
"""Each file command's maker, given the loaded model, of the line of one analysed file."""


def _analyse_files(args: argparse.Namespace, settings: Settings) -> int:
    """Analyse each file on the service's own path (so the numbers are the API's) and
    print the command's line for it."""
    from app.analysis import Analyzer

    analyzer = Analyzer(args.model, max_duration_s=settings.max_duration_s, warm_up=False)
    try:
        record = RECORDS[args.command](analyzer.model)
    except AudioFeaturesUnavailableError as error:
        print(f"music-emotion: {error}", file=sys.stderr)
        return 2
    return _run(args.files, lambda path: record(path, analyzer(path)), args.json)


def _run(files: Iterable[Path], analyse: Callable[[Path], dict], as_json: bool) -> int:
    """Analyse each file, print its line, and return 1 if any failed."""
    status = 0
    for path in files:
        try:
            record = rounded(analyse(path))
        except (MusicEmotionError, OSError) as error:
            problem = problem_of(error)
            record = {"path": str(path), "error": problem.detail, "problem": problem.slug}
            status = 1
        if as_json:
            print(json.dumps(record), flush=True)
        else:
            print(_readable(record), flush=True)
    return status


def _readable(record: dict, prefix: str = "") -> str:
    """One line of ``key=value`` pairs (``timbre.hardness=...`` for nested ones), leaving
    out the series and the audio features' constant ``type``."""
    return "  ".join(
        _readable(value, f"{prefix}{key}.") if isinstance(value, dict) else f"{prefix}{key}={value}"
        for key, value in record.items()
        if key not in ("series", "type")
    )


if __name__ == "__main__":
    sys.exit(main())
