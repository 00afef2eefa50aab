"""Logging of the daemon's OS processes: structlog key-value lines appended to a file.

The library never configures logging; the supervisor and the workers are entry points, so they
do, here. Every line starts with an ISO time in UTC and the level, then the event and its keys,
so that ``workactors daemon logs`` can merge several files by time.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import structlog

from persistence.atomic import PRIVATE_FILE_MODE


class _Lines:
    """A structlog logger that writes each rendered line to several text streams."""

    def __init__(self, streams: list[TextIO]) -> None:
        self._streams = streams

    def msg(self, message: str) -> None:
        for stream in self._streams:
            stream.write(message + "\n")
            stream.flush()

    debug = info = warning = warn = error = critical = exception = fatal = failure = msg


def open_log(path: Path) -> TextIO:
    """Open ``path`` for appending, private to this user, line-buffered."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=PRIVATE_FILE_MODE, exist_ok=True)
    return path.open("a", buffering=1, encoding="utf-8")


def configure(path: Path, *, echo: bool = False, level: int = logging.INFO) -> TextIO:
    """Send structlog events (``level`` and up) to ``path``, and to stderr too if ``echo``.

    Returns the open log file, which the caller may pass on (a child's stderr).
    """
    stream = open_log(path)
    streams = [stream, sys.stderr] if echo else [stream]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.KeyValueRenderer(
                key_order=["timestamp", "level", "event"], drop_missing=True
            ),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=lambda *_args: _Lines(streams),
        cache_logger_on_first_use=False,  # logging_to must be able to undo it
    )
    # Libraries that log through the standard library (and warnings) land in the same file.
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.WARNING)  # not every report line: those are in the database
    handler.setFormatter(
        logging.Formatter("timestamp='%(asctime)s' level='%(levelname)s' %(message)s")
    )
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    logging.captureWarnings(True)
    return stream


@contextmanager
def logging_to(path: Path, *, echo: bool = False) -> Iterator[TextIO]:
    """``configure`` for the block only: the previous structlog and logging setup come back
    after it (a foreground daemon run inside a longer-lived program)."""
    saved = structlog.get_config()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = configure(path, echo=echo)
    try:
        yield stream
    finally:
        structlog.configure(**saved)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        logging.captureWarnings(False)
        stream.close()
