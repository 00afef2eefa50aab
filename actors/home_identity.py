"""Which database a home belongs to: ``<home>/home.json``, written on first use, checked after.

A home's checkpoints name nodes of one database. A submission written into a home with another
database (``--database-url`` given to one program and not the other) would be adopted by the
daemon, fail to find its nodes and end in ``failed/``. So the first program that uses a home
with a database records that database in ``home.json`` (its URL without the password; a SQLite
file by its absolute path), and ``check_home`` refuses any later use of the home with another
database, before anything is written. The daemon checks at start; a submission checks before
it writes its checkpoint.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import sqlalchemy as sa

from actors.errors import ActorError
from persistence.atomic import atomic_write, make_private_directory

IDENTITY_FILE = "home.json"
FORMAT = "workactors-home"
VERSION = 1


class HomeMismatchError(ActorError):
    """A home is being used with a database other than the one it belongs to."""


def database_identity(database_url: str) -> str:
    """How a database is named in ``home.json``: the URL without its password, the driver
    left out (``postgresql+psycopg`` and ``postgresql`` are one server), a SQLite file by its
    absolute path."""
    url = sa.make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if database and database != ":memory:":
            database = os.path.realpath(database)
        return f"sqlite:///{database}"
    if url.password is not None:
        url = url.set(password="***")
    return url.set(drivername=backend).render_as_string(hide_password=True)


def identity_path(home: str | os.PathLike[str]) -> Path:
    """Where the home records its database."""
    return Path(home).expanduser() / IDENTITY_FILE


def recorded_database(home: str | os.PathLike[str]) -> str | None:
    """The database ``home.json`` names; None if the home records none yet.

    Raises:
        HomeMismatchError: if ``home.json`` exists but is not one workactors wrote.
    """
    path = identity_path(home)
    try:
        document = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise HomeMismatchError(
            f"{path} cannot be read ({exc}); it records which database the home belongs to. "
            "Remove it if the home's database is the one you are using now"
        ) from exc
    database = document.get("database") if isinstance(document, dict) else None
    if not isinstance(database, str):
        raise HomeMismatchError(
            f"{path} does not say which database the home belongs to; remove it if the home's "
            "database is the one you are using now"
        )
    return database


def check_home(home: str | os.PathLike[str], database_url: str, *, record: bool = True) -> None:
    """Refuse to use ``home`` with a database other than its own; record it on first use
    (unless ``record`` is False: a daemon checks before it opens the database, and records
    only once the database proved usable).

    Two programs recording at once both write the same file when they agree; when they do
    not, one of them wins, and the other is refused at its next check.

    Raises:
        HomeMismatchError: if the home belongs to another database (the message names both,
            and what to do).
        PersistenceError: if the home cannot be created or ``home.json`` cannot be written.
    """
    mine = database_identity(database_url)
    recorded = recorded_database(home)
    if recorded is None:
        if not record:
            return
        document = {"format": FORMAT, "version": VERSION, "database": mine}
        data = (json.dumps(document, indent=1) + "\n").encode()
        make_private_directory(Path(home).expanduser())
        atomic_write(identity_path(home), data)
        return
    if recorded != mine:
        raise HomeMismatchError(
            f"the home {Path(home).expanduser()} belongs to the database {recorded}, not to "
            f"{mine}: its checkpoints name that database's nodes. Use the same --database-url "
            "(or $WORKACTORS_DATABASE_URL) as the daemon of this home, or another --home"
        )
