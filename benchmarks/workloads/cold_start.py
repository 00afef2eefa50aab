"""``cold_start``: a new Python program opens a runtime, runs one workfunction and exits.

What a user waits for when a script calls workactors once: interpreter start, imports, opening
(and on first use creating) the database, one process with provenance, a clean shutdown. Each
iteration is a fresh OS process on a home whose database already exists, timed from spawn to
exit, so the latency column is the cold start itself.

Bytecode is cached, as an installed package (or any second run) has it: the programs write it
even where the environment says not to (``PYTHONDONTWRITEBYTECODE``), under the harness's cache
(``benchmarks.bytecode``), and the first, untimed start compiles what is missing. Without that
every start here compiled the whole engine again and a third of the figure was the compiler's.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from benchmarks.bytecode import caching_bytecode
from benchmarks.databases import POSTGRESQL, SQLITE, fresh_schema
from benchmarks.figures import RepeatResult
from benchmarks.workloads.base import Kind, ProgressCallback, Workload

#: The program each iteration runs; it fails loudly if the result is wrong.
PROGRAM = """
import sys
from actors import Runtime, workfunction
from provenance import Int

@workfunction
def add(a, b):
    return a + b

with Runtime(sys.argv[1], database_url=sys.argv[2] if len(sys.argv) > 2 else None) as runtime:
    assert runtime.run(add, Int(1), Int(2)).value == 3
"""
TIMEOUT = 60.0


def _start(home: str, url: str | None) -> float:
    """Seconds one program took, from spawn to exit."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, home, *([url] if url else [])],
        env=caching_bytecode(os.environ),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the cold-start program failed: {done.stderr.strip()[-500:]}")
    return elapsed


@dataclass
class _Home:
    """The home (and PostgreSQL schema) every repeat of one workload starts programs on."""

    path: str
    url: str | None
    close: Callable[[], None]


def _setup_on(database: str) -> Callable[[Any], _Home]:
    def setup(_session: Any) -> _Home:
        stack = contextlib.ExitStack()
        try:
            path = stack.enter_context(tempfile.TemporaryDirectory(prefix="workactors-bench-cold-"))
            url = stack.enter_context(fresh_schema()) if database == POSTGRESQL else None
            # The first start creates the database and compiles the bytecode, untimed and once
            # for every repeat: the timed ones open an existing home with compiled code, as
            # users do.
            _start(path, url)
        except BaseException:
            stack.close()
            raise
        return _Home(path, url, stack.close)

    return setup


def _run_repeat(home: _Home, indices: range, progress: ProgressCallback | None) -> RepeatResult:
    latencies: list[float] = []
    for _index in indices:
        latencies.append(_start(home.path, home.url))
        if progress is not None:
            progress(1)
    return RepeatResult(sum(latencies), tuple(latencies))


def _teardown(home: _Home) -> None:
    home.close()


WORKLOAD = Workload(
    name="cold_start",
    description=(
        "a new Python program: open a runtime on an existing home, run one workfunction, exit "
        "(latency = the cold start)"
    ),
    peer="workactors",
    kind=Kind.ENGINE,
    n=10,
    quick_n=3,
    run_repeat=_run_repeat,
    setup=_setup_on(SQLITE),
    teardown=_teardown,
    warmup=0,
    unit="starts",
)

ON_POSTGRESQL = replace(WORKLOAD, database=POSTGRESQL, setup=_setup_on(POSTGRESQL))
