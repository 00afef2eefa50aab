"""The DBOS Transact side of the durable comparison: registry entries run in the DBOS runner.

The code is in ``benchmarks/dbos_peer/flows.py``. Each workload exists on SQLite and on
PostgreSQL, like its workactors counterpart: ``workfunction_add`` (a trivial workflow run
blockingly), ``daemon_steps`` (200 workflows of 10 durable steps), ``daemon_fanout`` (20
parents of 10 child workflows) and ``cold_start``. Sizes match the workactors side.
"""

from __future__ import annotations

from typing import Any

from benchmarks.databases import DATABASES
from benchmarks.workloads import durable, remote
from benchmarks.workloads.base import Workload

PEER = "dbos"


def _entry(name: str, description: str, **fields: Any) -> Workload:
    return remote.entry(PEER, name, description, **fields)


def steps(database: str, chains: int = durable.CHAINS) -> Workload:
    """``chains`` workflows of 10 ``@DBOS.step``\\ s per iteration."""
    return _entry(
        "daemon_steps",
        f"{chains} workflows of {durable.STEPS} @DBOS.step's started with DBOS.start_workflow "
        f"on {database} and awaited (throughput: durable steps/s)",
        n=1,
        quick_n=1,
        warmup=1,
        processes_per_iteration=chains * durable.STEPS,
        unit="durable steps",
        batch=chains,
        quick_batch=durable.QUICK_CHAINS,
        resize=lambda size: steps(database, size),
        max_repeats=3,
        database=database,
    )


def fan_out(database: str, parents: int = durable.PARENTS) -> Workload:
    """``parents`` parent workflows of 10 child workflows per iteration."""
    return _entry(
        "daemon_fanout",
        f"{parents} workflows each starting 10 one-step child workflows and awaiting them, "
        f"on {database} (throughput counts children)",
        n=1,
        quick_n=1,
        warmup=1,
        processes_per_iteration=parents * 10,
        unit="children",
        batch=parents,
        quick_batch=durable.QUICK_PARENTS,
        resize=lambda size: fan_out(database, size),
        max_repeats=3,
        database=database,
    )


def _for(database: str) -> tuple[Workload, ...]:
    return (
        _entry(
            "workfunction_add",
            f"@DBOS.workflow add(a, b) called blockingly on {database}",
            n=200,
            quick_n=50,
            warmup=20,
            database=database,
        ),
        steps(database),
        fan_out(database),
        _entry(
            "cold_start",
            f"a new Python program: launch DBOS on an existing {database} system database, "
            "run one workflow, exit (latency = the cold start)",
            n=10,
            quick_n=3,
            warmup=1,
            unit="starts",
            database=database,
        ),
    )


WORKLOADS: tuple[Workload, ...] = tuple(w for database in DATABASES for w in _for(database))

NOTES: dict[str, str] = {
    "daemon_steps": "DBOS runs the workflows on its executor threads in the runner process; "
    "workactors on daemon worker processes",
    "daemon_steps@pg": "DBOS runs the workflows on its executor threads in the runner process; "
    "workactors on daemon worker processes",
    "cold_start": "both programs open an existing database",
    "cold_start@pg": "both programs open an existing database",
}
"""What differs on DBOS's side of a comparison, by workload label."""

NOT_PORTED: dict[str, str] = {}
