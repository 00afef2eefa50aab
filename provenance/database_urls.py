"""Which database URLs workactors takes, and the SQLAlchemy URL each one means.

Users write URLs the way their tools do: ``postgres://`` (Heroku, libpq) and ``postgresql://``
both mean PostgreSQL through psycopg 3, the driver workactors ships with. Anything else is
refused with the list of what works, before SQLAlchemy would go looking for a driver module.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError

from provenance.errors import StorageError

SUPPORTED = (
    "sqlite:///PATH (the embedded default), postgresql://USER@HOST[:PORT]/DATABASE "
    "(or postgres://..., postgresql+psycopg://...)"
)

#: What the scheme a user wrote becomes.
_DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgres+psycopg": "postgresql+psycopg",
}


def sqlite_url(path: object) -> str:
    """The SQLAlchemy URL of the SQLite file at ``path`` (escaped: a folder may be named
    ``50%`` or ``a?b``)."""
    url = URL.create("sqlite+pysqlite", database=str(path))
    return url.render_as_string(hide_password=False)


def normalize_url(url: str) -> URL:
    """The SQLAlchemy URL that ``url`` names, with its driver.

    Raises:
        StorageError: if ``url`` is not a URL, or names a database workactors does not support.
    """
    try:
        parsed = sa.make_url(url)
    except ArgumentError as exc:
        raise StorageError(
            f"{_hide_password(url)!r} is not a database URL; workactors takes {SUPPORTED}"
        ) from exc
    driver = _DRIVERS.get(parsed.drivername.lower())
    if driver is None:
        raise StorageError(
            f"workactors does not support the database URL scheme {parsed.drivername!r} "
            f"(in {parsed.render_as_string(hide_password=True)}); it takes {SUPPORTED}"
        )
    return parsed.set(drivername=driver)


def _hide_password(url: str) -> str:
    """``url`` with anything between ``:`` and ``@`` of its authority masked."""
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest:
        return url
    credentials, _at, host = rest.rpartition("@")
    user, colon, _password = credentials.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}"
