"""The benchmark workloads written for DBOS Transact 3.4, in the shapes of the workactors ones.

Imported only by the shared ``benchmarks/venv_peer/runner.py`` inside the DBOS virtual
environment, never by workactors. ``open_session`` launches DBOS on the system database the
client chose (a SQLite file in the home, or a fresh PostgreSQL database), configured as the
DBOS documentation describes for an application: its name and ``system_database_url``, every
other setting at its default. Every iteration checks its results, so that a wrong engine
cannot look fast.

- ``workfunction_add``: a workflow ``add(a, b)`` called blockingly (DBOS records the
  workflow's status, inputs and output);
- ``daemon_steps``: ``batch`` workflows of 10 ``@DBOS.step``\\ s started with
  ``DBOS.start_workflow`` (run by DBOS's executor threads) and awaited; each step's result is
  written to the system database before the next step runs;
- ``daemon_fanout``: ``batch`` parent workflows, each starting 10 child workflows of one step
  and awaiting them;
- ``cold_start``: a new interpreter that launches DBOS on the existing system database, runs
  one ``add`` and exits.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dbos import DBOS

STEPS = 10
FAN_OUT = 10
APP_NAME = "workactors-bench"
COLD_TIMEOUT_S = 120.0
RunOnce = Callable[[int], None]
_session: dict[str, Any] = {}


def _check(what: str, got: int, expected: int) -> None:
    if got != expected:
        raise RuntimeError(f"{what} returned {got}, expected {expected}")


@DBOS.workflow()
def add(a: int, b: int) -> int:
    """The trivial workflow: its inputs and output are recorded with its status."""
    return a + b


@DBOS.step()
def add_index(total: int, index: int) -> int:
    """One durable step: its result is checkpointed before the workflow goes on."""
    return total + index


@DBOS.workflow()
def counting(steps: int, start: int) -> int:
    """``steps`` steps, each adding its index: start + 0 + 1 + ... + steps-1."""
    total = start
    for index in range(steps):
        total = add_index(total, index)
    return total


@DBOS.step()
def plus_one(x: int) -> int:
    """The child's one step."""
    return x + 1


@DBOS.workflow()
def leaf(x: int) -> int:
    """A child workflow of one step: y = x + 1."""
    return plus_one(x)


@DBOS.workflow()
def fan_out(x: int) -> int:
    """Start ten ``leaf`` children, wait for all, sum their results."""
    handles = [DBOS.start_workflow(leaf, x + k) for k in range(FAN_OUT)]
    return sum(handle.get_result() for handle in handles)


def _sqlite_settings(url: str) -> dict[str, Any]:
    """journal_mode and synchronous as DBOS's own connections see them."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    finally:
        engine.dispose()
    names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    return {"journal_mode": journal, "synchronous": names.get(int(synchronous or 0), synchronous)}


def open_session(home: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Launch DBOS on ``config["url"]`` (or a SQLite file in ``home``); facts for the report."""
    import dbos

    url = config.get("url") or f"sqlite:///{home / 'dbos.sqlite'}"
    DBOS(config={"name": APP_NAME, "system_database_url": url})
    DBOS.launch()
    _session["url"] = url
    facts: dict[str, Any] = {
        "dbos_version": getattr(dbos, "__version__", None),
        "database": config.get("database", "sqlite"),
        "config": {"name": APP_NAME, "system_database_url": url.split("://")[0] + "://..."},
    }
    if url.startswith("sqlite"):
        facts["sqlite"] = _sqlite_settings(url)
    return facts


def close_session() -> None:
    """Shut DBOS down (its executor and background threads)."""
    DBOS.destroy()


def _add(_batch: int | None) -> RunOnce:
    def run_once(i: int) -> None:
        _check(f"add({i}, 1)", add(i, 1), i + 1)

    return run_once


def _steps(batch: int | None) -> RunOnce:
    chains = batch or 1

    def run_once(i: int) -> None:
        base = i * chains
        handles = [DBOS.start_workflow(counting, STEPS, base + k) for k in range(chains)]
        for k, handle in enumerate(handles):
            _check(f"counting({STEPS}, {base + k})", handle.get_result(), base + k + 45)

    return run_once


def _fan_out(batch: int | None) -> RunOnce:
    parents = batch or 1

    def run_once(i: int) -> None:
        bases = [(i * parents + p) * FAN_OUT for p in range(parents)]
        handles = [DBOS.start_workflow(fan_out, base) for base in bases]
        for base, handle in zip(bases, handles, strict=True):
            expected = sum(base + k + 1 for k in range(FAN_OUT))
            _check(f"fan_out({base})", handle.get_result(), expected)

    return run_once


COLD_PROGRAM = """
import sys
from dbos import DBOS

@DBOS.workflow()
def add(a, b):
    return a + b

DBOS(config={"name": sys.argv[2], "system_database_url": sys.argv[1]})
DBOS.launch()
assert add(1, 2) == 3
DBOS.destroy()
"""


def _cold(_batch: int | None) -> RunOnce:
    def run_once(_i: int) -> None:
        done = subprocess.run(
            [sys.executable, "-c", COLD_PROGRAM, _session["url"], APP_NAME + "-cold"],
            capture_output=True,
            text=True,
            timeout=COLD_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the cold-start program failed: {done.stderr.strip()[-500:]}")

    return run_once


WORKLOADS: dict[str, Callable[[int | None], RunOnce]] = {
    "workfunction_add": _add,
    "daemon_steps": _steps,
    "daemon_fanout": _fan_out,
    "cold_start": _cold,
}
