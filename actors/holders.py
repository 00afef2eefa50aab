"""Who holds each running process, and ending the processes whose holder died.

A process that a runtime runs carries a ``holder`` attribute: the host, OS pid, start time and
birth (``actors.os_identity``) of the Python process running it, its home and the id of its
runtime. If that OS process dies (``kill -9`` of a script doing a blocking ``run``), nothing
would ever end the process's node: it would show RUNNING forever. A process with a running
checkpoint is not lost (a daemon worker resumes it); one without is: ``repair`` finds those
(every runtime does at open, ``workactors process repair`` on demand) and ends them KILLED,
saying why.

A holder on this machine is judged by its OS process. One on another machine (several
machines sharing a database) is judged by its runtime's heartbeat in the database
(``actors.heartbeat``, ``provenance.runtime_rows``): a row that ran out, or none, means that
runtime ended.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actors import os_identity
from provenance.errors import NotExistentError
from provenance.log import get_logger
from provenance.process_nodes import ProcessNode
from provenance.process_state import ProcessState
from provenance.runtime_rows import RuntimeRow, runtime_rows
from provenance.sqlite_connections import read_rows

if TYPE_CHECKING:
    from actors.runtime import Runtime
    from provenance.storage import Storage

log = get_logger(__name__)

#: The attribute of a process node that names its holder.
HOLDER = "holder"
#: Start times of one OS process, as read twice, differ by less than this (seconds).
START_TOLERANCE = 1.0

_ACTIVE = [state.value for state in ProcessState if not state.is_terminal]


@dataclass(frozen=True, slots=True)
class Holder:
    """The OS process that runs a process, and the home whose checkpoints it keeps."""

    host: str
    os_pid: int
    started: float
    home: str
    #: ``os_identity.birth``: what tells it alive, whatever the wall clock did meanwhile.
    birth: str | None = None
    #: The id of its runtime's row in ``wa_runtime``: what tells it alive from another host.
    runtime: str | None = None

    @classmethod
    def of_this_process(cls, home: Path, runtime: str | None = None) -> Holder:
        """The holder that this Python process is, for a runtime on ``home`` (of id
        ``runtime``)."""
        pid = os.getpid()
        started = _this_process_started() or 0.0
        born = os_identity.birth(pid)
        return cls(socket.gethostname(), pid, started, str(home), born, runtime)

    def as_attribute(self) -> dict[str, Any]:
        """How a node stores it."""
        stored = {"host": self.host, "pid": self.os_pid, "started": self.started, "home": self.home}
        if self.birth is not None:
            stored["birth"] = self.birth
        if self.runtime is not None:
            stored["runtime"] = self.runtime
        return stored

    @classmethod
    def from_attribute(cls, value: Any) -> Holder | None:
        """The holder a node stores, or None if it has none (or an unreadable one)."""
        if not isinstance(value, dict):
            return None
        try:
            born = value.get("birth")
            runtime = value.get("runtime")
            return cls(
                str(value["host"]),
                int(value["pid"]),
                float(value["started"]),
                value["home"],
                born if isinstance(born, str) else None,
                runtime if isinstance(runtime, str) else None,
            )
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def elsewhere(self) -> bool:
        """True if it runs on another host than this one."""
        return self.host != _this_host()

    def is_alive(self, runtimes: Mapping[str, RuntimeRow] | None = None) -> bool | None:
        """True if it still runs, False if it is gone, None if that cannot be told.

        On this host its OS process tells; a holder recorded with its birth is judged by it (a
        step of the wall clock moves start times, ``actors.os_identity``, and made live holders
        look dead). On another host its runtime's row among ``runtimes`` (``runtime_rows``)
        tells: one that ran out or is missing means it ended. None for a holder on another host
        recorded before runtimes had rows, or without ``runtimes`` to judge it by.
        """
        if self.elsewhere:
            if self.runtime is None or runtimes is None:
                return None
            row = runtimes.get(self.runtime)
            return row is not None and row.alive
        if self.birth is not None:
            return os_identity.birth(self.os_pid) == self.birth
        started = _started(self.os_pid)
        return started is not None and abs(started - self.started) < START_TOLERANCE

    def __str__(self) -> str:
        return f"OS process {self.os_pid} on {self.host}"


def _started(os_pid: int) -> float | None:
    """When OS process ``os_pid`` started; None if there is none (a reused pid differs)."""
    import psutil  # only to look at other processes: every runtime open would pay ~10 ms

    try:
        return float(psutil.Process(os_pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def _this_process_started() -> float | None:
    """When this OS process started, exactly as ``_started`` (psutil) computes it, read from
    ``/proc`` on Linux: every runtime open needs it, and importing psutil cost a cold start
    more than the rest of opening the runtime."""
    try:
        with open("/proc/self/stat", "rb") as stat_file:
            stat = stat_file.read()
        with open("/proc/stat", "rb") as system_file:
            booted = next(
                float(line.split()[1]) for line in system_file if line.startswith(b"btime")
            )
        ticks = os_identity.start_ticks(stat)
        if ticks is not None:
            return os_identity.ticks_to_seconds(ticks) + booted
    except (OSError, ValueError, IndexError, StopIteration):
        pass
    return _started(os.getpid())  # not Linux: ask psutil


@cache
def _this_host() -> str:
    return socket.gethostname()


def orphaned(
    runtime: Runtime, node: ProcessNode, runtimes: Mapping[str, RuntimeRow] | None = None
) -> Holder | bool | None:
    """Whether ``node`` is a process that nothing will ever end.

    Returns False if it is ended, resumable (it has a running checkpoint here) or held by a
    live (or unknowable) holder; else its dead holder, or None if it never had one. A holder
    on another host is judged by ``runtimes`` (read from the database if not given).
    """
    state = node.process_state
    if state is None or state.is_terminal:
        return False
    if _resumable(runtime, node.pk):
        return False
    caller = node.caller
    if caller is not None and _resumable(runtime, caller.pk):
        # Launched by a step that will run again from its caller's checkpoint (a crash came
        # between its node and its own first checkpoint): that step re-attaches to it.
        return False
    holder = Holder.from_attribute(node.attributes.get(HOLDER))
    if holder is not None:
        if runtimes is None and holder.elsewhere:
            runtimes = runtime_rows(runtime.storage)
        if holder.is_alive(runtimes) is not False:
            return False
    return holder


def _resumable(runtime: Runtime, pk: int | None) -> bool:
    """True if ``pk`` has a running checkpoint in the runtime's store (this home's files, or
    the shared database): a daemon worker resumes it."""
    return pk is not None and runtime.checkpoints.store.has_checkpoint(pk)


def end_orphan(
    runtime: Runtime, pk: int, *, by: str, runtimes: Mapping[str, RuntimeRow] | None = None
) -> bool:
    """End process ``pk`` KILLED if nothing will ever end it; True if it was. ``runtimes``:
    the rows of ``wa_runtime``, if read already.

    Raises:
        NotExistentError: if there is no node ``pk``.
    """
    node = runtime.load_node(pk)
    if not isinstance(node, ProcessNode):
        raise NotExistentError(f"node {pk} is not a process")
    holder = orphaned(runtime, node, runtimes)
    if holder is False:
        return False
    if isinstance(holder, Holder):
        why = f"its runtime ({holder}) ended without ending it"
    else:
        why = "no runtime holds it"
    message = f"{why}, and it has no checkpoint to resume from; {by}"
    update = node.set_process_attributes(
        process_state=ProcessState.KILLED.value, exit_message=message
    )
    runtime.backend.write([update])
    log.warning("holders.orphan_ended", pid=pk, holder=str(holder), by=by)
    return True


#: ``active_holders`` on SQLite as SQLAlchemy renders it there, on the driver alone: a runtime
#: runs it at every open, before which a program need not have imported SQLAlchemy.
_ACTIVE_HOLDERS_ON_SQLITE = (
    f"SELECT id, JSON_QUOTE(JSON_EXTRACT(attributes, '$.\"{HOLDER}\"')) FROM db_node "
    f"WHERE node_type LIKE ? || '%' AND "
    f"CAST(JSON_EXTRACT(attributes, '$.\"process_state\"') AS VARCHAR) "
    f"IN ({', '.join('?' * len(_ACTIVE))})"
)


def active_holders(runtime: Runtime) -> list[tuple[int, Any]]:
    """The pk and ``holder`` attribute (None if it has none) of every process node not
    ended."""
    path = runtime.storage.sqlite_path
    if path is not None:
        return _active_holders_on_sqlite(path)
    return _active_holders_through_sqlalchemy(runtime.storage)


def _active_holders_on_sqlite(path: str) -> list[tuple[int, Any]]:
    rows = read_rows(path, _ACTIVE_HOLDERS_ON_SQLITE, (ProcessNode.node_type, *_ACTIVE))
    return [(pk, None if holder is None else json.loads(holder)) for pk, holder in rows]


def _active_holders_through_sqlalchemy(storage: Storage) -> list[tuple[int, Any]]:
    import sqlalchemy as sa

    from provenance.models import DbNode

    query = sa.select(DbNode.id, DbNode.attributes[HOLDER]).where(
        DbNode.node_type.startswith(ProcessNode.node_type),
        DbNode.attributes["process_state"].as_string().in_(_ACTIVE),
    )
    with storage.read_session() as session:
        return [(row[0], row[1]) for row in session.execute(query)]


def repair(runtime: Runtime) -> list[int]:
    """End every process whose holder died, on any host; return their pids.

    With checkpoints in the home's files, only the processes of this home count (another
    home's checkpoints, which a daemon there resumes, are not seen from here); with
    checkpoints in a shared database, those of every home do. The rows of ``wa_runtime`` are
    read only if a holder on another host needs them.
    """
    home = str(runtime.home)
    every_home = runtime.shared_database
    runtimes: Mapping[str, RuntimeRow] | None = None
    ended: list[int] = []
    for pk, stored in active_holders(runtime):
        holder = Holder.from_attribute(stored)
        if holder is None or (holder.home != home and not every_home):
            continue  # without a holder it was submitted: its checkpoint is its life
        if runtimes is None and holder.elsewhere and holder.runtime is not None:
            runtimes = runtime_rows(runtime.storage)
        if holder.is_alive(runtimes) is False and end_orphan(
            runtime, pk, by="found by repair", runtimes=runtimes
        ):
            ended.append(pk)
    if ended:
        log.warning("holders.repaired", pids=ended)
    return ended


def live_holder(runtime: Runtime, pk: int) -> tuple[Holder, RuntimeRow | None] | None:
    """The holder of process ``pk`` if it runs, without a checkpoint, in another OS process
    that is alive (with its runtime's row when it runs on another host), else None: what
    ``process kill`` names when it cannot reach the process."""
    try:
        node = runtime.load_node(pk)
    except NotExistentError:
        return None
    holder = Holder.from_attribute(node.attributes.get(HOLDER))
    if holder is None or (not holder.elsewhere and holder.os_pid == os.getpid()):
        return None
    if _resumable(runtime, pk):
        return None  # held under its checkpoint: reached through the store, not its program
    runtimes = runtime_rows(runtime.storage) if holder.elsewhere else None
    if not holder.is_alive(runtimes):
        return None
    return holder, None if runtimes is None else runtimes.get(holder.runtime or "")


__all__ = [
    "HOLDER",
    "Holder",
    "active_holders",
    "end_orphan",
    "live_holder",
    "orphaned",
    "repair",
]
