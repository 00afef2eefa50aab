"""Peers: the engines (and the bare baseline) that workloads run on.

A peer knows how to open a session in a fresh home, which files hold its database and which
version it is. Everything engine-specific lives here, in ``benchmarks.aiida_peer`` and in the
workload modules; the harness and the report only see the ``Peer`` protocol.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from benchmarks.databases import SQLITE, fresh_schema
from benchmarks.meters import Meter


class Peer(Protocol):
    """What the harness needs from an engine."""

    @property
    def name(self) -> str:
        """Identifier that workloads name in their ``peer`` field."""
        ...

    @property
    def remote(self) -> bool:
        """True if the engine runs in another OS process (then ``meter`` measures that one)."""
        ...

    @property
    def opt_in(self) -> bool:
        """True if it runs only when asked for with ``--peer`` (it costs an install)."""
        ...

    def is_available(self) -> bool:
        """False if the engine cannot run here; its workloads are then skipped."""
        ...

    def prepare(self, say: Callable[[str], None]) -> None:
        """Get ready before the progress bar starts (install what is missing), or raise."""
        ...

    def facts(self) -> dict[str, Any]:
        """Settings and versions the figures depend on, for the JSON report."""
        ...

    def meter(self, session: Any, local: Meter) -> Meter:
        """The memory meter of the OS process the engine runs in (``local`` if this one)."""
        ...

    def version(self) -> str | None:
        """Version of the engine, for the JSON report."""
        ...

    def session(
        self, home: Path, seed: int, *, database: str = "sqlite"
    ) -> AbstractContextManager[Any]:
        """Open the engine on an empty ``home`` and on ``database`` (``benchmarks.databases``);
        what it yields is passed to ``setup``."""
        ...

    def database_files(self, home: Path) -> list[Path]:
        """Files whose sizes add up to the database size, read after the session closed."""
        ...


def _distribution_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


class LocalPeer:
    """What peers running in this OS process share: nothing to install, this process's meter."""

    remote = False
    opt_in = False

    def prepare(self, say: Callable[[str], None]) -> None:
        """Nothing to install."""

    def facts(self) -> dict[str, Any]:
        """Nothing beyond the machine facts."""
        return {}

    def meter(self, session: Any, local: Meter) -> Meter:
        """Runs in this OS process."""
        return local


class WorkactorsPeer(LocalPeer):
    """workactors with its embedded SQLite store: one ``actors.Runtime`` per session."""

    name = "workactors"

    def is_available(self) -> bool:
        """workactors is this project, always importable."""
        return True

    def version(self) -> str | None:
        """The installed distribution's version."""
        return _distribution_version("workactors")

    @contextmanager
    def session(self, home: Path, seed: int, *, database: str = SQLITE) -> Iterator[Any]:
        """A runtime on ``home`` (on a fresh PostgreSQL schema for ``postgresql``); shutting it
        down commits everything before sizes are read."""
        import actors

        if database == SQLITE:
            with actors.Runtime(home) as runtime:
                yield runtime
            return
        with fresh_schema() as url, actors.Runtime(home, database_url=url) as runtime:
            yield runtime

    def database_files(self, home: Path) -> list[Path]:
        """``provenance.sqlite`` and its write-ahead log."""
        return [home / "provenance.sqlite", home / "provenance.sqlite-wal"]


@dataclass(frozen=True, slots=True)
class BaselineSession:
    """What primitive workloads get: an empty folder on the same filesystem as engine homes."""

    home: Path
    seed: int


class BaselinePeer(LocalPeer):
    """No engine at all: primitives run directly on the OS, pykka and sqlite3."""

    name = "baseline"

    def is_available(self) -> bool:
        """Needs nothing beyond workactors' own dependencies."""
        return True

    def version(self) -> str | None:
        """The pykka version, the only library the primitives time besides the stdlib."""
        return _distribution_version("pykka")

    @contextmanager
    def session(
        self, home: Path, seed: int, *, database: str = SQLITE
    ) -> Iterator[BaselineSession]:
        """The folder itself."""
        yield BaselineSession(home, seed)

    def database_files(self, home: Path) -> list[Path]:
        """None: a primitive's scratch files are not a provenance database."""
        return []


def _all_peers() -> dict[str, Peer]:
    from benchmarks.aiida_peer.client import AiidaPeer
    from benchmarks.dbos_peer.client import DbosPeer

    peers: tuple[Peer, ...] = (BaselinePeer(), WorkactorsPeer(), AiidaPeer(), DbosPeer())
    return {peer.name: peer for peer in peers}


PEERS: dict[str, Peer] = _all_peers()
"""Every peer by name; opt-in ones (aiida, dbos) run only when ``--peer`` names them."""
