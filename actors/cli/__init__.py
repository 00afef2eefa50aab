"""The ``workactors`` command line: ``main`` is the console script's entry point."""

from __future__ import annotations

import logging
import sys

import structlog

from actors.cli.app import app

__all__ = ["app", "configure_logging", "main"]


def configure_logging() -> None:
    """Send library log events to stderr, WARNING and up.

    Done here and only here because it is process-wide: library code must not decide where a
    program's logs go, but a command whose stdout is read by scripts must keep events such as
    ``provenance.migrate`` off it.
    """
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


def main() -> None:
    """Run the ``workactors`` command line."""
    configure_logging()
    app()
