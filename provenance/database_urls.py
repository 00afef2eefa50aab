"""Which database URLs workactors takes, and the SQLAlchemy URL each one means.

Users write URLs the way their tools do: ``postgres://`` (Heroku, libpq) and ``postgresql://``
both mean PostgreSQL through psycopg 3, the driver workactors ships with. Anything else is
refused with the list of what works, before SQLAlchemy would go looking for a driver module.

The URL of a SQLite file (what every runtime on the embedded default opens) is read and written
here without SQLAlchemy (``sqlite_file``, ``sqlite_url``), exactly as SQLAlchemy reads and
renders it (a test compares them): a program that only runs processes on SQLite does not import
SQLAlchemy at all. Any other URL goes through SQLAlchemy's parser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from provenance.errors import StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

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


#: The schemes of a SQLite URL, and the scheme ``sqlite_url`` writes.
_SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
_SQLITE_SCHEME = "sqlite+pysqlite"


def sqlite_url(path: object) -> str:
    """The SQLAlchemy URL of the SQLite file at ``path`` (escaped: a folder may be named
    ``50%`` or ``a?b``), as ``URL.create("sqlite+pysqlite", database=path)`` renders it."""
    return f"{_SQLITE_SCHEME}:///{quote(str(path), safe=' +/')}"


def sqlite_file(url: str) -> str | None:
    """The file a plain SQLite URL (``sqlite:///PATH``, no query, not in memory) names, as
    SQLAlchemy parses it; None for any other URL (SQLAlchemy's parser then decides)."""
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() not in _SQLITE_SCHEMES:
        return None
    if not rest.startswith("/") or "?" in rest:
        return None  # a host, a query (``?uri=true``...) or no database: SQLAlchemy's case
    database = unquote(rest[1:])
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def normalized_sqlite_url(url: str) -> str | None:
    """``normalize_url(url)`` rendered with its password, for a URL ``sqlite_file`` reads;
    None for any other."""
    path = sqlite_file(url)
    return None if path is None else sqlite_url(path)


def backend_name(url: str) -> str:
    """``sqlite`` or ``postgresql``: the database ``url`` names.

    Raises:
        StorageError: as ``normalize_url``.
    """
    if sqlite_file(url) is not None:
        return "sqlite"
    return normalize_url(url).get_backend_name()


def normalize_url(url: str) -> URL:
    """The SQLAlchemy URL that ``url`` names, with its driver.

    Raises:
        StorageError: if ``url`` is not a URL, or names a database workactors does not support.
    """
    import sqlalchemy as sa
    from sqlalchemy.exc import ArgumentError

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
