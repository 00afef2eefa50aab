"""``DbLogHandler``: log records about a process become log records of its node."""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import math
import sys
from contextlib import AbstractContextManager
from typing import Any

from provenance.backend import ProvenanceBackend
from provenance.records import LogRecord
from provenance.values import INT_MAX, INT_MIN, LABEL_MAX_LENGTH, encode_text

#: Attributes every ``logging.LogRecord`` has; anything else was passed through ``extra``.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "pid",
}


#: The process whose step runs in this context: ``{"pid": ..., "workactors_runtime": ...}``.
_bound: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "workactors_process", default=None
)


class _BoundProcess:
    """``bound_process``'s block: context variables set on entry and reset (by their tokens)
    on exit, without a generator, since every step of every process enters one."""

    __slots__ = ("_fields", "_structlog_tokens", "_token")

    def __init__(self, fields: dict[str, Any]) -> None:
        self._fields = fields

    def __enter__(self) -> None:
        self._token = _bound.set(self._fields)
        structlog_contextvars = sys.modules.get("structlog.contextvars")
        try:
            self._structlog_tokens = (
                None
                if structlog_contextvars is None
                else structlog_contextvars.bind_contextvars(**self._fields)
            )
        except BaseException:
            _bound.reset(self._token)
            raise

    def __exit__(self, *_exc_info: object) -> None:
        try:
            if self._structlog_tokens is not None:
                # What was bound before comes back, as ``bound_contextvars`` restores it.
                sys.modules["structlog.contextvars"].reset_contextvars(**self._structlog_tokens)
        finally:
            _bound.reset(self._token)


def bound_process(pid: int | None, runtime_id: int) -> AbstractContextManager[None]:
    """Bind ``pid`` (and its runtime) to every log record made in the block.

    Records reach ``DbLogHandler`` with the pid whether they were made with ``logging`` or with
    structlog; if the program uses structlog (it is imported), its context carries ``pid`` and
    ``workactors_runtime`` too. structlog is not imported here: that costs a cold start more than
    a short run does.
    """
    return _BoundProcess({"pid": pid, "workactors_runtime": runtime_id})


def _context() -> dict[str, Any]:
    """What is bound to this context: by ``bound_process``, else in structlog's context."""
    fields = _bound.get()
    if fields is not None:
        return fields
    structlog_contextvars = sys.modules.get("structlog.contextvars")
    if structlog_contextvars is None:
        return {}
    context: dict[str, Any] = structlog_contextvars.get_contextvars()
    return context


def bound_pid(record: logging.LogRecord) -> int | None:
    """The pid a record is about: passed as ``extra={'pid': ...}``, bound by ``bound_process``
    or in structlog's context."""
    pid = getattr(record, "pid", None)
    if pid is None:
        pid = _context().get("pid")
    return pid if isinstance(pid, int) else None


class DbLogHandler(logging.Handler):
    """Forwards records bound to a process (a ``pid``) to the provenance actor.

    Records without a pid are left to the other handlers. Sending never blocks on the database.
    """

    def __init__(self, backend: ProvenanceBackend, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self._backend = backend

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record for the node of its pid (runs on the logging thread)."""
        pid = bound_pid(record)
        if pid is None:
            return
        try:
            metadata: dict[str, Any] = {
                encode_text(key): _storable(value)
                for key, value in vars(record).items()
                if key not in _STANDARD_ATTRIBUTES and _is_plain(value)
            }
            self._backend.write_nowait(
                [
                    LogRecord(
                        node_pk=pid,
                        levelname=encode_text(record.levelname)[:50],
                        loggername=encode_text(record.name)[:LABEL_MAX_LENGTH],
                        # A log line is stored whatever it holds, escaped where needed.
                        message=encode_text(_text_of(record)),
                        time=dt.datetime.fromtimestamp(record.created, dt.UTC),
                        metadata=metadata,
                    )
                ]
            )
        except Exception:
            self.handleError(record)


_FORMATTER = logging.Formatter()


def _text_of(record: logging.LogRecord) -> str:
    """The message, followed by the traceback (``exc_info``) and stack (``stack_info``)."""
    parts = [record.getMessage()]
    if record.exc_info:
        parts.append(_FORMATTER.formatException(record.exc_info))
    elif record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(_FORMATTER.formatStack(record.stack_info))
    return "\n".join(parts)


def _is_plain(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _storable(value: Any) -> Any:
    """A plain ``extra`` value as the database stores it on every backend."""
    if isinstance(value, str):
        return encode_text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        return f"<int of {value.bit_length()} bits>"
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


class RuntimeFilter(logging.Filter):
    """Lets through only the report records of processes of one runtime, so that two runtimes
    in one Python process each store their own processes' lines."""

    def __init__(self, runtime_id: int) -> None:
        super().__init__()
        self._runtime_id = runtime_id

    def filter(self, record: logging.LogRecord) -> bool:
        """True if ``record`` was logged by a process of this filter's runtime."""
        owner = getattr(record, "workactors_runtime", None)
        if owner is None:
            owner = _context().get("workactors_runtime")
        return bool(owner == self._runtime_id)
