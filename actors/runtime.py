"""``Runtime``: one actor system, the database it records into and how it keeps processes.

A runtime assembles the registry and provenance actors, the launcher that starts one
``ProcessActor`` per process, and its durability (``Ephemeral`` or ``Checkpointed`` into a
``CheckpointStore``), and stops them all on ``shutdown``. Which runtime is in use is
``actors.runtimes``' business (``get_runtime`` is re-exported here).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from actors import holders
from actors.assembly import (
    attach_report_log,
    choose_notifier,
    database_store_in_use,
    detach_report_log,
)
from actors.caching import CachingSetting, check_setting
from actors.durability import Checkpointed, Durability, Ephemeral
from actors.heartbeat import HeartbeatKeeper, choose_interval
from actors.holders import Holder
from actors.home import DATABASE_URL_ENV, HOME_ENV, default_home, prepare_home
from actors.launcher import Launcher, ProcessLike
from actors.registry import Registry, RegistryActor
from actors.runtime_checkpoints import RuntimeCheckpoints
from actors.runtime_control import RuntimeControl
from actors.runtime_launching import RuntimeLaunching
from actors.runtimes import closed, get_runtime, opened, runtime_holding, step_runtime
from persistence.store import CheckpointStore, Notifier
from provenance.actor import ProvenanceActor
from provenance.actor_messages import Watermark
from provenance.backend import ActorBackend
from provenance.log import get_logger
from provenance.nodes import Node, load_node
from provenance.runtime_rows import Beat, Heartbeat
from provenance.storage import Storage, sqlite_url

if TYPE_CHECKING:
    # Imported where used: a runtime that checkpoints nothing never loads the persistence
    # actor, the codec or the file locks (a tenth of a script's cold start).
    from actors.durable import Checkpoints
    from persistence.pickle_persistence import PicklePersistence

log = get_logger(__name__)


class Runtime(RuntimeLaunching, RuntimeCheckpoints, RuntimeControl):
    """One actor system: registry, provenance and one actor per live process.

    Args:
        home: folder of the embedded database and checkpoints; default ``default_home()``.
        database_url: SQLAlchemy URL of the provenance database (PostgreSQL for servers);
            default ``$WORKACTORS_DATABASE_URL``, else SQLite at ``<home>/provenance.sqlite``.
        passivation: write waiting processes out and stop their actors, so that waiting costs
            no thread; they are revived when what they wait for arrives.
        durability: ``Checkpointed(store)`` holds every process run here and checkpoints it
            after every step, so that another worker or a restart resumes it (what a daemon
            worker runs); ``Ephemeral()`` (the default) does not.
        durable: shorthand for ``durability=Checkpointed()`` (the home's file store).
        caching: reuse finished runs instead of running again: True for every class, or
            class paths / patterns (``actors.caching``); default off (or ``$WORKACTORS_CACHING``).
        heartbeat_interval: seconds between two renewals of this runtime's row in the database
            (``actors.heartbeat``), by which runtimes on other machines tell it alive; default
            ``$WORKACTORS_HEARTBEAT_INTERVAL``, else 10.

    Raises:
        StorageError: if the database is corrupt, foreign or of a newer version.
        ActorError: if ``heartbeat_interval`` is not a positive number.
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        database_url: str | None = None,
        passivation: bool = True,
        durability: Durability | None = None,
        durable: bool = False,
        caching: CachingSetting = None,
        heartbeat_interval: float | None = None,
    ) -> None:
        caching = check_setting(caching)  # before anything is opened
        interval = choose_interval(heartbeat_interval)
        self.home = Path(home).expanduser() if home is not None else default_home()
        prepare_home(self.home)
        url = (
            database_url
            or os.environ.get(DATABASE_URL_ENV)
            or sqlite_url(self.home / "provenance.sqlite")
        )
        self.storage = Storage(url)
        watermark = Watermark()
        self._provenance_ref = ProvenanceActor.start(self.storage, watermark)
        self.backend: ActorBackend = ActorBackend(self.storage, self._provenance_ref, watermark)  # type: ignore[arg-type]
        self.passivation = passivation
        self.caching = caching
        self.durability: Durability = durability or (Checkpointed() if durable else Ephemeral())
        self.launcher = Launcher(self)
        #: Live processes and who waits on whom; process actors call it on their threads.
        self.live_registry = Registry(reviver=self.launcher.revive)
        #: The same, served to messages (the control API below, other workers).
        self.registry = RegistryActor.start(self.live_registry)
        self._log_handler = attach_report_log(self.backend, id(self))
        self._lock = threading.Lock()
        self._closed = False
        self._home_store: PicklePersistence | None = None
        #: The database store this runtime made (closed at shutdown), if it uses one.
        self._database_store: CheckpointStore | None = None
        self._checkpoints: Checkpoints | None = None
        #: True if checkpoints live in the (PostgreSQL) database rather than the home's files.
        self.shared_database = database_store_in_use(url)
        self.notifier: Notifier = choose_notifier(self.durability, self.home, url)
        if self.durable:
            from actors.durable import Checkpoints

            self._checkpoints = Checkpoints(self, self._store(), writer=True)
        #: This runtime's row in ``wa_runtime``, renewed while it is open (``actors.heartbeat``).
        self.runtime_id = os.urandom(16).hex()
        holder = Holder.of_this_process(self.home, self.runtime_id)
        #: Who holds the processes run here, recorded on their nodes (``actors.holders``).
        self.holder = holder.as_attribute()
        row = Heartbeat(Beat.OPEN, self.runtime_id, holder.host, holder.os_pid, holder.home)
        self._heartbeat = HeartbeatKeeper(self.backend, row, interval)
        self._heartbeat.start()
        opened(self)
        #: The processes this runtime ended at open because their runtime had died.
        self.repaired: tuple[int, ...] = ()
        try:
            self.repaired = tuple(self.repair())
        except Exception as exc:  # a busy or read-only database must not stop a runtime opening
            log.warning("runtime.repair_failed", error=repr(exc))

    def repair(self) -> list[int]:
        """End KILLED every process whose runtime died without ending it (and that left no
        checkpoint to resume from), on this host or another (judged by its heartbeat); return
        their pids. Runs at every open. See ``actors.holders.repair`` for which homes count."""
        return holders.repair(self)

    @property
    def is_closed(self) -> bool:
        """True once ``shutdown`` began."""
        return self._closed

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return f"<Runtime home={str(self.home)!r} db={self.storage.location!r}>"

    # Engine hooks.

    def _enter_step(self) -> contextvars.Token[Runtime | None]:
        return step_runtime.set(self)

    def _leave_step(self, token: contextvars.Token[Runtime | None]) -> None:
        step_runtime.reset(token)

    @contextlib.contextmanager
    def bound(self) -> Iterator[None]:
        """Make this the runtime in use in this context, so that node reads (``load_node``)
        go to its database even on threads that serve no step (actor hooks, the registry)."""
        token = self._enter_step()
        try:
            yield
        finally:
            self._leave_step(token)

    def load_node(self, pk: int) -> Node:
        """``load_node(pk)`` from this runtime's database.

        Raises:
            NotExistentError: if no node has that pk.
        """
        with self.bound():
            return load_node(pk)

    # Shutdown.

    def shutdown(self, timeout: float = 60.0) -> None:
        """Let running processes end (killing those that outlast ``timeout``), then stop every
        actor after the provenance actor committed all it holds. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pending = self.launcher.pending()
        if self.durable:
            from actors.durable import suspend_all

            suspend_all(self, timeout)
        else:
            not_done = concurrent.futures.wait(pending, timeout=timeout).not_done
            if not_done:
                for pid in self.launcher.live():
                    self.kill(pid, "the runtime shut down")
                concurrent.futures.wait(not_done)
        if self._checkpoints is not None:
            self._checkpoints.stop()
        self._heartbeat.stop()
        close = getattr(self._database_store, "close", None)
        if close is not None:
            close()
        self.registry.stop(block=True)
        self._provenance_ref.stop(block=True)
        detach_report_log(self._log_handler)
        self.storage.dispose()
        closed(self)


__all__ = [
    "DATABASE_URL_ENV",
    "HOME_ENV",
    "ProcessLike",
    "Runtime",
    "default_home",
    "get_runtime",
    "runtime_holding",
]
