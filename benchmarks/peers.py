"""Peers: the engines (and the bare baseline) that workloads run on.

A peer knows how to open a session in a fresh home, which files hold its database and which
version it is. Everything engine-specific lives here and in the workload modules; the harness
and the report only see the ``Peer`` protocol, so a peer for aiida-core can be added without
changing them.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


class Peer(Protocol):
    """What the harness needs from an engine."""

    @property
    def name(self) -> str:
        """Identifier that workloads name in their ``peer`` field."""
        ...

    def is_available(self) -> bool:
        """False if the engine is not installed here; its workloads are then skipped."""
        ...

    def version(self) -> str | None:
        """Version of the engine, for the JSON report."""
        ...

    def session(self, home: Path, seed: int) -> AbstractContextManager[Any]:
        """Open the engine on an empty ``home``; what it yields is passed to ``setup``."""
        ...

    def database_files(self, home: Path) -> list[Path]:
        """Files whose sizes add up to the database size, read after the session closed."""
        ...


def _distribution_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


class WorkactorsPeer:
    """workactors with its embedded SQLite store: one ``actors.Runtime`` per session."""

    name = "workactors"

    def is_available(self) -> bool:
        """workactors is this project, always importable."""
        return True

    def version(self) -> str | None:
        """The installed distribution's version."""
        return _distribution_version("workactors")

    @contextmanager
    def session(self, home: Path, seed: int) -> Iterator[Any]:
        """A runtime on ``home``; shutting it down commits everything before sizes are read."""
        import actors

        with actors.Runtime(home) as runtime:
            yield runtime

    def database_files(self, home: Path) -> list[Path]:
        """``provenance.sqlite`` and its write-ahead log."""
        return [home / "provenance.sqlite", home / "provenance.sqlite-wal"]


@dataclass(frozen=True, slots=True)
class BaselineSession:
    """What primitive workloads get: an empty folder on the same filesystem as engine homes."""

    home: Path
    seed: int


class BaselinePeer:
    """No engine at all: primitives run directly on the OS, pykka and sqlite3."""

    name = "baseline"

    def is_available(self) -> bool:
        """Needs nothing beyond workactors' own dependencies."""
        return True

    def version(self) -> str | None:
        """The pykka version, the only library the primitives time besides the stdlib."""
        return _distribution_version("pykka")

    @contextmanager
    def session(self, home: Path, seed: int) -> Iterator[BaselineSession]:
        """The folder itself."""
        yield BaselineSession(home, seed)

    def database_files(self, home: Path) -> list[Path]:
        """None: a primitive's scratch files are not a provenance database."""
        return []


PEERS: dict[str, Peer] = {peer.name: peer for peer in (BaselinePeer(), WorkactorsPeer())}
