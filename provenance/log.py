"""Log events of the provenance layer, without printing to stdout or importing structlog.

Unconfigured, structlog prints every event to stdout, and a library must never write there (a
script's stdout is its output: ``PK=$(python make_node.py)``). So an event goes to structlog only
when the application configured it (the CLI, the daemon, a test's ``capture_logs``); otherwise it
goes to the standard ``logging`` module under the same logger name, where an unconfigured program
sees warnings and errors on stderr and nothing else. structlog is never imported here: importing
it costs a cold start more than the rest of a short run (it imports ``structlog.dev`` and rich).
"""

from __future__ import annotations

import logging
import sys
from typing import Any


class EventLogger:
    """``log.info("provenance.event", key=value, ...)`` as with structlog."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._structlog: Any = None  # structlog's lazy proxy, made on first use

    def debug(self, event: str, **fields: Any) -> None:
        """Log ``event`` at DEBUG."""
        self._log(logging.DEBUG, "debug", event, fields)

    def info(self, event: str, **fields: Any) -> None:
        """Log ``event`` at INFO."""
        self._log(logging.INFO, "info", event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        """Log ``event`` at WARNING."""
        self._log(logging.WARNING, "warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        """Log ``event`` at ERROR."""
        self._log(logging.ERROR, "error", event, fields)

    def _log(self, level: int, method: str, event: str, fields: dict[str, Any]) -> None:
        structlog = sys.modules.get("structlog")
        if structlog is not None and structlog.is_configured():
            if self._structlog is None:
                self._structlog = structlog.get_logger(self._name)
            getattr(self._structlog, method)(event, **fields)
            return
        logger = logging.getLogger(self._name)
        if logger.isEnabledFor(level):
            details = " ".join(f"{key}={_safe_repr(value)}" for key, value in fields.items())
            logger.log(level, "%s %s", event, details, extra={"event": event})


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:  # a huge int's repr raises; the type is enough then
        return f"<{type(value).__name__}>"


def get_logger(name: str) -> EventLogger:
    """The event logger of module ``name``."""
    return EventLogger(name)
