"""Logging of the daemon's OS processes: structlog key-value lines appended to a file.

The library never configures logging; the supervisor and the workers are entry points, so they
do, here. Every line starts with an ISO time in UTC and the level, then the event and its keys,
so that ``workactors daemon logs`` can merge several files by time.

Logs rotate by size: once a log reaches ``$WORKACTORS_LOG_MAX_BYTES`` (10 MiB by default) it is
renamed ``<name>.1`` (the older ones shifting to ``.2`` ... and the oldest beyond
``$WORKACTORS_LOG_BACKUPS``, 5 by default, removed) and a new one is started. Each log has one
writer (its own process), so renaming under it is safe; the process's stdout and stderr, where
a crash's traceback goes, are moved to the new file too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import structlog

from persistence.atomic import PRIVATE_FILE_MODE

MAX_BYTES_ENV = "WORKACTORS_LOG_MAX_BYTES"
BACKUPS_ENV = "WORKACTORS_LOG_BACKUPS"
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5


def rotation_settings() -> tuple[int, int]:
    """The size at which a log rotates and how many old logs are kept, from the environment.

    Raises:
        ValueError: if a variable is not a whole number in range (the message names it).
    """
    found = []
    for name, default, least in ((MAX_BYTES_ENV, MAX_BYTES, 1024), (BACKUPS_ENV, BACKUPS, 0)):
        text = os.environ.get(name, "")
        try:
            value = int(text) if text else default
        except ValueError:
            raise ValueError(f"${name} must be a whole number, not {text!r}") from None
        if value < least:
            raise ValueError(f"${name} must be at least {least}, not {value}")
        found.append(value)
    return found[0], found[1]


class RotatingLog:
    """A text stream on a log file that rotates it when it grows past ``max_bytes``.

    Args:
        path: the log file, created private (0600) if missing.
        max_bytes: the size past which the file is rotated.
        backups: how many rotated files (``.1`` newest) to keep.
    """

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._handle = open_log(path)

    def write(self, text: str) -> int:
        """Append ``text``; rotate afterwards if the file grew past the limit."""
        written = self._handle.write(text)
        if self._handle.tell() >= self.max_bytes:
            self.rotate()
        return written

    def flush(self) -> None:
        """Flush the file."""
        self._handle.flush()

    def fileno(self) -> int:
        """The file descriptor of the current file."""
        return self._handle.fileno()

    def close(self) -> None:
        """Close the current file."""
        self._handle.close()

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._handle.closed

    def rotate(self) -> None:
        """Shift the old files, start a new one, and move stdout/stderr to it if they wrote to
        the old one."""
        self._handle.flush()
        old = os.fstat(self._handle.fileno())
        self._handle.close()
        if self.backups == 0:
            self.path.unlink(missing_ok=True)
        else:
            for index in range(self.backups - 1, 0, -1):
                source = self.path.with_name(f"{self.path.name}.{index}")
                if source.exists():
                    source.replace(self.path.with_name(f"{self.path.name}.{index + 1}"))
            with contextlib.suppress(FileNotFoundError):
                self.path.replace(self.path.with_name(f"{self.path.name}.1"))
        self._handle = open_log(self.path)
        for fd in (1, 2):
            with contextlib.suppress(OSError):
                current = os.fstat(fd)
                if (current.st_dev, current.st_ino) == (old.st_dev, old.st_ino):
                    (sys.stdout if fd == 1 else sys.stderr).flush()
                    os.dup2(self._handle.fileno(), fd)


class _Lines:
    """A structlog logger that writes each rendered line to several text streams."""

    def __init__(self, streams: list[TextIO | RotatingLog]) -> None:
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


def configure(path: Path, *, echo: bool = False, level: int = logging.INFO) -> RotatingLog:
    """Send structlog events (``level`` and up) to ``path``, and to stderr too if ``echo``.

    The log rotates as ``rotation_settings`` says (defaults if the environment is wrong, with
    a warning in the log). Returns the open log.
    """
    try:
        max_bytes, backups = rotation_settings()
        problem = None
    except ValueError as exc:
        (max_bytes, backups), problem = (MAX_BYTES, BACKUPS), str(exc)
    stream = RotatingLog(path, max_bytes, backups)
    streams: list[TextIO | RotatingLog] = [stream, sys.stderr] if echo else [stream]
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
    if problem is not None:
        structlog.get_logger(__name__).warning("daemon.log_rotation_defaults", reason=problem)
    return stream


@contextmanager
def logging_to(path: Path, *, echo: bool = False) -> Iterator[RotatingLog]:
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
