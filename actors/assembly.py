"""The defaults a runtime assembles when its policy leaves them open.

This is the composition root's one place of knowledge about concrete stores and the daemon:

- with a PostgreSQL database URL, checkpoints, claims and intents live in that database
  (``PostgresStore``) and workers on every machine are woken by ``NOTIFY``
  (``DatabaseNotifier``), unless ``WORKACTORS_CHECKPOINT_STORE=files`` keeps them in the home;
- otherwise the home's files are the store and the home's daemon workers are woken through
  their sockets.

Every other engine module speaks to ``persistence.store``'s protocols only.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from actors.durability import Checkpointed, Durability
from actors.errors import ActorError
from actors.home import running_directory
from actors.process import REPORT_LOGGER_NAME
from persistence.store import CheckpointStore, NoNotifier, Notifier
from provenance.backend import ProvenanceBackend
from provenance.database_urls import backend_name
from provenance.errors import StorageError
from provenance.logs import DbLogHandler, RuntimeFilter

if TYPE_CHECKING:
    # Imported where used: a runtime that checkpoints nothing opens no store, and a script
    # should not pay for the codec and the file locks at start.
    from persistence.pickle_persistence import PicklePersistence

#: The signing key of a home's checkpoints, beside its database.
KEY_FILE_NAME = "checkpoint.key"
#: A key file every machine on one database shares (else each home signs with its own).
KEY_FILE_ENV = "WORKACTORS_CHECKPOINT_KEY_FILE"
#: ``database`` (the default with PostgreSQL) or ``files`` (the home's ``running/`` folder).
STORE_ENV = "WORKACTORS_CHECKPOINT_STORE"
#: Seconds a worker's claim on a process lasts unless renewed (shared database only).
LEASE_ENV = "WORKACTORS_LEASE_SECONDS"
STORE_CHOICES = ("database", "files")


def key_file_of(home: Path) -> Path:
    """The checkpoint key file: ``$WORKACTORS_CHECKPOINT_KEY_FILE``, else the home's own."""
    shared = os.environ.get(KEY_FILE_ENV)
    return Path(shared).expanduser() if shared else home / KEY_FILE_NAME


def home_file_store(home: Path) -> PicklePersistence:
    """The file store of ``home``: ``running/`` with ``finished/`` and ``failed/`` in it."""
    from persistence.pickle_persistence import PicklePersistence

    running = running_directory(home)
    return PicklePersistence(
        running, running / "finished", running / "failed", key_file=key_file_of(home)
    )


def database_store_in_use(url: str) -> bool:
    """True if checkpoints live in the database ``url`` (PostgreSQL, not kept in files).

    Raises:
        ActorError: if ``$WORKACTORS_CHECKPOINT_STORE`` is neither ``database`` nor ``files``.
    """
    choice = os.environ.get(STORE_ENV, "database").strip().lower()
    if choice not in STORE_CHOICES:
        raise ActorError(
            f"{STORE_ENV}={choice!r} is not a checkpoint store; use one of "
            f"{', '.join(STORE_CHOICES)}"
        )
    if choice != "database":
        return False
    try:  # psycopg is imported only for a PostgreSQL URL: a cold start on SQLite stays cheap
        return backend_name(url) == "postgresql"
    except StorageError:  # not a URL we take: Storage said so already
        return False


def lease_seconds() -> float:
    """The claim lease: ``$WORKACTORS_LEASE_SECONDS`` or the store's default.

    Raises:
        ActorError: if the variable is not a positive number.
    """
    from persistence.postgres_store import DEFAULT_LEASE

    text = os.environ.get(LEASE_ENV)
    if not text:
        return DEFAULT_LEASE
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ActorError(f"{LEASE_ENV}={text!r} is not a positive number of seconds")
    return value


def database_key(home: Path) -> bytes:
    """The key that signs the checkpoints of a shared database: the one of
    ``$WORKACTORS_CHECKPOINT_KEY_FILE``, which must exist (every machine reads the same one),
    else the home's own, created if missing."""
    from persistence.keys import load_or_create_key, read_key

    shared = os.environ.get(KEY_FILE_ENV)
    return read_key(Path(shared).expanduser()) if shared else load_or_create_key(key_file_of(home))


def database_store(
    home: Path, url: str, *, worker: bool, on_lease_lost: Callable[[int], None] | None = None
) -> CheckpointStore:
    """The store of a shared database; ``worker``: listed in ``wa_worker`` (a daemon's).

    With ``$WORKACTORS_CHECKPOINT_KEY_FILE`` the key must exist (every machine reads the same
    one); without it the home's own key is used, created if missing.
    """
    from persistence.postgres_store import PostgresStore

    key = database_key(home)
    identity = (socket.gethostname(), os.getpid(), str(home)) if worker else None
    return PostgresStore(
        url, key, lease=lease_seconds(), worker=identity, on_lease_lost=on_lease_lost
    )


def choose_notifier(policy: Durability, home: Path, url: str) -> Notifier:
    """The policy's notifier; else NOTIFY for a database store, the home's daemon for the
    home's files; nobody for a store the policy brought."""
    if isinstance(policy, Checkpointed):
        if policy.notifier is not None:
            return policy.notifier
        if policy.store is not None:
            return NoNotifier()
    if database_store_in_use(url):
        from persistence.pg_notify import DatabaseNotifier

        return DatabaseNotifier(url)
    return HomeNotifier(home)


class HomeNotifier:
    """The ``Notifier`` of a home's file store: wakes the home's daemon workers (if any run)."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def __repr__(self) -> str:
        return f"HomeNotifier({str(self.home)!r})"

    def submitted(self, pid: int) -> None:
        """A checkpoint was written into the home's running folder: wake the workers."""
        # Imported at the first submission: the daemon package costs a cold start ~0.15 s.
        from actors.daemon.wake import notify_workers

        notify_workers(self.home)


def attach_report_log(backend: ProvenanceBackend, runtime_id: int) -> DbLogHandler:
    """Send ``report()`` lines of this runtime's processes to its provenance database; the
    handler is removed at shutdown (``detach_report_log``)."""
    handler = DbLogHandler(backend)
    handler.addFilter(RuntimeFilter(runtime_id))
    report_logger = logging.getLogger(REPORT_LOGGER_NAME)
    report_logger.addHandler(handler)
    if report_logger.level == logging.NOTSET:
        report_logger.setLevel(logging.INFO)
    return handler


def detach_report_log(handler: DbLogHandler) -> None:
    """Stop sending ``report()`` lines to ``handler``'s database."""
    logging.getLogger(REPORT_LOGGER_NAME).removeHandler(handler)
