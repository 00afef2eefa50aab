"""Where reads go: the database of the runtime in use, else the default home's, with no runtime.

Reading provenance needs no actors: ``load_node(9)`` in a fresh interpreter, a notebook or a
script that never ran anything opens the database of the default home (``$WORKACTORS_HOME``, else
``~/.workactors``; ``$WORKACTORS_DATABASE_URL`` if set) read-only in spirit, and keeps it open for
the next read. When a runtime is open, reads go to its database instead, so that a process step
reads what its own runtime wrote. A node read again later (its state, its links) is read where
it came from (``database_of``): after its runtime closed, reading the default home instead gave
another database's node of the same pk.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from provenance.backend import ProvenanceBackend, open_backend
from provenance.database_urls import normalize_url, sqlite_url
from provenance.errors import NotExistentError
from provenance.storage import Storage

HOME_ENV = "WORKACTORS_HOME"
DATABASE_URL_ENV = "WORKACTORS_DATABASE_URL"
DATABASE_FILE = "provenance.sqlite"

_storages: dict[str, Storage] = {}
_lock = threading.Lock()


def default_home() -> Path:
    """``$WORKACTORS_HOME``, else ``~/.workactors`` (what ``Runtime()`` uses)."""
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser() if env else Path.home() / ".workactors"


def default_url() -> str:
    """``$WORKACTORS_DATABASE_URL``, else the SQLite file of the default home."""
    return os.environ.get(DATABASE_URL_ENV) or sqlite_url(default_home() / DATABASE_FILE)


def storage_for(url: str) -> Storage:
    """An open ``Storage`` on ``url``, shared by every reader of this Python process.

    Raises:
        NotExistentError: for a SQLite file that does not exist (nothing was ever stored
            there): reading must not create an empty database.
        StorageError: for a database that cannot be used.
    """
    with _lock:
        storage = _storages.get(url)
        if storage is not None:
            return storage
        parsed = normalize_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            path = Path(parsed.database)
            if not path.is_file():
                raise NotExistentError(
                    f"there is no workactors database at {path}: nothing was stored in this "
                    f"home yet; set {HOME_ENV} (or {DATABASE_URL_ENV}) to the home you ran in"
                )
        storage = Storage(url)
        _storages[url] = storage
        return storage


def read_storage() -> Storage:
    """The database reads go to: the open runtime's, else the default home's (see module)."""
    backend = open_backend()
    if backend is not None:
        return backend.storage
    return storage_for(default_url())


def _writer_of(url: str | None) -> ProvenanceBackend | None:
    """The open runtime's backend if it writes the database ``url`` (or ``url`` is not
    known), else None."""
    backend = open_backend()
    if backend is not None and (url is None or backend.storage.url == url):
        return backend
    return None


def database_of(url: str | None) -> Storage:
    """The database of a node that came from ``url`` (None: not known, read as
    ``read_storage``): the open runtime's if it is that one, else one opened for reads."""
    backend = _writer_of(url)
    if backend is not None:
        return backend.storage
    return storage_for(url) if url is not None else read_storage()


def sync_backend_of(url: str | None) -> None:
    """``sync_open_backend`` if the open runtime writes the database ``url`` (or ``url`` is
    not known): nothing else has writes of this program to wait for."""
    backend = _writer_of(url)
    if backend is not None:
        backend.sync()


def sync_open_backend() -> bool:
    """Wait until the open runtime's writes are committed; False if no runtime is open.

    A process step that just launched a child reads it back through another connection: the
    child's row is applied but may not be committed yet (the provenance actor batches commits).
    """
    backend = open_backend()
    if backend is None:
        return False
    backend.sync()
    return True


def close_readers() -> None:
    """Dispose of the storages opened for reads without a runtime (tests, long programs)."""
    with _lock:
        storages = list(_storages.values())
        _storages.clear()
    for storage in storages:
        storage.dispose()
