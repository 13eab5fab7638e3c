"""Keep what C libraries print on the process's stderr out of the service's logs.

libmpg123 (inside libsndfile) reports every damaged MP3 frame with ``fprintf(stderr,
...)``: notes about resyncing, skipped bytes, odd Xing headers. Python cannot silence
it, so :func:`decoder_stderr_to_log` points file descriptor 2 at a temporary file while
a decoder runs, then logs those lines at DEBUG level; anything else written to the
descriptor meanwhile (another thread's output) is passed on to the real stderr.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

logger = logging.getLogger("music_emotion.audio")

DECODER_LINE = re.compile(rb"^(Note: |Warning: |\[src/libmpg123/|.*mpg123)")
"""A line libmpg123 prints."""

_lock = threading.Lock()
_users = 0
_saved_fd: int | None = None
_capture: BinaryIO | None = None


@contextmanager
def decoder_stderr_to_log() -> Iterator[None]:
    """While in this block, the C libraries' stderr output goes to the log (thread-safe:
    descriptor 2 is redirected once for all the threads inside, restored by the last)."""
    global _users, _saved_fd, _capture
    with _lock:
        if _users == 0:
            try:
                sys.stderr.flush()
                capture = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the last user)
                saved = os.dup(2)
                os.dup2(capture.fileno(), 2)
            except (OSError, ValueError):  # no usable descriptor 2: nothing to protect
                capture, saved = None, None
            _capture, _saved_fd = capture, saved
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _saved_fd is not None and _capture is not None:
                os.dup2(_saved_fd, 2)
                os.close(_saved_fd)
                _capture.seek(0)
                _relay(_capture.read())
                _capture.close()
                _saved_fd = _capture = None


def _relay(captured: bytes) -> None:
    """Log the decoder's lines; pass the others on to stderr."""
    for line in captured.splitlines(keepends=True):
        if DECODER_LINE.match(line):
            logger.debug("decoder: %s", line.decode(errors="replace").rstrip())
        else:
            os.write(2, line)
