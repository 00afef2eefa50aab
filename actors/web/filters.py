"""The filters of the process list, read from a query string and written back into links.

The same filters drive the page, its live updates and ``/api/processes``, so they are parsed
once, here, into a frozen value; a malformed one is a ``BadRequestError`` that names the
parameter and says what it accepts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Self
from urllib.parse import urlencode

from actors.web.errors import BadRequestError
from provenance import ProcessState

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500
#: Longest text filter accepted: labels are at most 255 characters in the database.
MAX_TEXT = 255
#: Exit status filter meaning "any non-zero status".
FAILED = "failed"
_AGE = re.compile(r"^(\d{1,6})([smhd])$")
_SPACED_OFFSET = re.compile(r"(\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:\d\d)$")
_SECONDS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}


@dataclass(frozen=True, slots=True)
class ProcessFilter:
    """Which processes to list, and which page of them (newest first)."""

    state: ProcessState | None = None
    process_class: str = ""
    label: str = ""
    exit_status: int | str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def from_query(cls, params: Mapping[str, str], now: dt.datetime | None = None) -> Self:
        """Parse ``?state=&class=&label=&exit_status=&since=&until=&page=&per_page=``.

        ``since``/``until`` take an ISO 8601 time (UTC if it has no offset) or an age such as
        ``30m``, ``2h``, ``7d`` (that long before now); ``exit_status`` takes an integer or
        ``failed`` (any non-zero status).

        Raises:
            BadRequestError: naming the first malformed parameter and what it accepts.
        """
        moment = now or dt.datetime.now(dt.UTC)
        return cls(
            state=_state(params.get("state", "")),
            process_class=_text(params, "class"),
            label=_text(params, "label"),
            exit_status=_exit_status(params.get("exit_status", "")),
            since=_time(params, "since", moment),
            until=_time(params, "until", moment),
            page=_integer(params, "page", 1, 1, 10_000_000),
            per_page=_integer(params, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
        )

    def query_pairs(self, **changes: object) -> list[tuple[str, str]]:
        """The filter as query-string pairs (defaults left out), with ``changes`` applied."""
        changed = replace(self, **changes)  # type: ignore[arg-type]
        pairs: list[tuple[str, str]] = []
        if changed.state is not None:
            pairs.append(("state", changed.state.value))
        if changed.process_class:
            pairs.append(("class", changed.process_class))
        if changed.label:
            pairs.append(("label", changed.label))
        if changed.exit_status is not None:
            pairs.append(("exit_status", str(changed.exit_status)))
        if changed.since is not None:
            pairs.append(("since", changed.since.isoformat()))
        if changed.until is not None:
            pairs.append(("until", changed.until.isoformat()))
        if changed.page != 1:
            pairs.append(("page", str(changed.page)))
        if changed.per_page != DEFAULT_PER_PAGE:
            pairs.append(("per_page", str(changed.per_page)))
        return pairs

    def query_string(self, **changes: object) -> str:
        """``query_pairs`` encoded, without the ``?``."""
        return urlencode(self.query_pairs(**changes))

    @property
    def offset(self) -> int:
        """How many matching processes come before this page."""
        return (self.page - 1) * self.per_page


def _state(value: str) -> ProcessState | None:
    if not value:
        return None
    try:
        return ProcessState(value.lower())
    except ValueError:
        known = ", ".join(state.value for state in ProcessState)
        raise BadRequestError(
            f"state: {value!r} is not a process state; use one of {known}"
        ) from None


def _text(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if len(value) > MAX_TEXT:
        raise BadRequestError(f"{name}: at most {MAX_TEXT} characters, not {len(value)}")
    if "\x00" in value:
        raise BadRequestError(f"{name}: a NUL character matches no stored text; leave it out")
    return value


def _exit_status(value: str) -> int | str | None:
    value = value.strip().lower()
    if not value:
        return None
    if value == FAILED:
        return FAILED
    try:
        status = int(value)
    except ValueError:
        raise BadRequestError(
            f"exit_status: {value!r} is neither an integer nor {FAILED!r} (any non-zero status)"
        ) from None
    if not -(2**63) <= status < 2**63:
        raise BadRequestError(f"exit_status: {value} does not fit in 64 bits, as statuses do")
    return status


def _time(params: Mapping[str, str], name: str, now: dt.datetime) -> dt.datetime | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    age = _AGE.match(value)
    if age:
        return now - dt.timedelta(seconds=int(age.group(1)) * _SECONDS[age.group(2)])
    # A "+" of an offset typed into an address arrives as a space.
    value = _SPACED_OFFSET.sub(r"\1+\2", value)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadRequestError(
            f"{name}: {value!r} is neither an ISO 8601 time (2026-01-31T12:00) nor an age "
            "such as 30m, 2h or 7d"
        ) from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _integer(params: Mapping[str, str], name: str, default: int, least: int, most: int) -> int:
    value = params.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequestError(f"{name}: {value!r} is not an integer") from None
    if not least <= number <= most:
        raise BadRequestError(f"{name}: {number} is out of range; use {least} to {most}")
    return number
