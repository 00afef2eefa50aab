"""The primitives an engine process is built from, timed by the same harness.

A process costs at least an actor round trip, and a durable engine at least a commit; an
engine that checkpoints also pays an fsynced file write. Timing these alone gives the floor
under the engine figures, and the report prints each engine workload's per-process cost as a
multiple of each primitive, which says where the time goes better than absolute numbers that
change with the machine.
"""

from __future__ import annotations

import os
import pickle
import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pykka

from benchmarks.peers import BaselineSession
from benchmarks.workloads.base import Kind, Workload

PEER = "baseline"
CHECKPOINT_BYTES = 2048
SQLITE_ROW_BYTES = 256


class Echo(pykka.ThreadingActor):
    """Replies with the message it got: the cheapest possible ask."""

    use_daemon_thread = True

    def on_receive(self, message: Any) -> Any:
        """Return the message unchanged."""
        return message


def _pykka_setup(session: BaselineSession) -> pykka.ActorRef[Echo]:
    return Echo.start()


def _pykka_run_once(ref: pykka.ActorRef[Echo], i: int) -> None:
    if ref.ask(i, timeout=10) != i:
        raise RuntimeError("the echo actor answered with another message")


def _pykka_teardown(ref: pykka.ActorRef[Echo]) -> None:
    ref.stop(block=True, timeout=10)


def checkpoint_payload(i: int, seed: int) -> bytes:
    """A pickle of exactly ``CHECKPOINT_BYTES`` bytes, shaped like a small process checkpoint.

    The filler is random so that no layer below (filesystem compression, dedup) gets an easier
    job than with real state; it is seeded so that runs are repeatable.
    """
    state: dict[str, Any] = {"pid": i, "class_name": "benchmarks.PlusOne", "blob": b""}
    overhead = len(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
    # Pickle frames bytes of < 256 bytes with a shorter header: size the blob for the long one.
    filler = CHECKPOINT_BYTES - overhead - 3
    state["blob"] = random.Random(seed + i).randbytes(filler)
    payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    return payload


@dataclass(slots=True)
class _FileState:
    directory: Path
    seed: int
    sizes: set[int] = field(default_factory=set)


def _fsync_setup(session: BaselineSession) -> _FileState:
    directory = session.home / "running"
    directory.mkdir()
    return _FileState(directory, session.seed)


def _fsync_run_once(state: _FileState, i: int) -> None:
    # Pickling belongs to the cost: a real checkpoint pickles the process state every time.
    payload = checkpoint_payload(i, state.seed)
    state.sizes.add(len(payload))
    target = state.directory / f"{i}.pickle"
    temporary = state.directory / f".{i}.pickle.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, target)
    # The rename is durable only once the directory entry is on disk.
    directory_fd = os.open(state.directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


def _fsync_teardown(state: _FileState) -> None:
    if state.sizes and state.sizes != {CHECKPOINT_BYTES}:
        raise RuntimeError(f"checkpoint payloads were {sorted(state.sizes)} bytes, not 2 KB")


@dataclass(slots=True)
class _SqliteState:
    connection: sqlite3.Connection
    payload: bytes


def _sqlite_setup(session: BaselineSession) -> _SqliteState:
    connection = sqlite3.connect(session.home / "primitive.sqlite", isolation_level=None)
    # The same settings as the provenance store, so that the comparison is like for like.
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("CREATE TABLE row (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
    payload = random.Random(session.seed).randbytes(SQLITE_ROW_BYTES)
    return _SqliteState(connection, payload)


def _sqlite_run_once(state: _SqliteState, i: int) -> None:
    connection = state.connection
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("INSERT INTO row (id, payload) VALUES (?, ?)", (i, state.payload))
    connection.execute("COMMIT")


def _sqlite_teardown(state: _SqliteState) -> None:
    state.connection.close()


PYKKA_ASK = Workload(
    name="pykka_ask",
    description="pykka ask round trip to a trivial ThreadingActor",
    peer=PEER,
    kind=Kind.PRIMITIVE,
    n=2000,
    quick_n=500,
    setup=_pykka_setup,
    run_once=_pykka_run_once,
    teardown=_pykka_teardown,
    warmup=50,
    unit="ops",
)

FSYNC_WRITE = Workload(
    name="fsync_write",
    description="atomic write of a 2 KB pickle: temp file, fsync, os.replace, fsync directory",
    peer=PEER,
    kind=Kind.PRIMITIVE,
    n=300,
    quick_n=100,
    setup=_fsync_setup,
    run_once=_fsync_run_once,
    teardown=_fsync_teardown,
    unit="ops",
)

SQLITE_TXN = Workload(
    name="sqlite_txn",
    description="one SQLite WAL transaction (synchronous=NORMAL): insert a 256 B row, commit",
    peer=PEER,
    kind=Kind.PRIMITIVE,
    n=2000,
    quick_n=500,
    setup=_sqlite_setup,
    run_once=_sqlite_run_once,
    teardown=_sqlite_teardown,
    warmup=20,
    unit="ops",
)

WORKLOADS = (PYKKA_ASK, FSYNC_WRITE, SQLITE_TXN)
