"""The time every timestamp of the database is taken from."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, as every timestamp in the database is."""
    return dt.datetime.now(dt.UTC)


__all__ = ["utcnow"]
