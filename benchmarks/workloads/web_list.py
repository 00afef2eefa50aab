"""``web_list``: the dashboard's process list, filtered, over a large table.

Setup fills the session's database with ``batch`` process nodes in bulk (states, classes and
exit statuses mixed as a busy server's would be), starts the real dashboard (uvicorn on a free
port) and each iteration asks for the first page of a filtered list over HTTP: the latency is
what a user waits for the page, database query and template included.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa

from actors import Runtime
from benchmarks.workloads.base import Kind, Workload
from provenance.models import DbNode

PROCESSES = 100_000
QUICK_PROCESSES = 2_000
#: The page asked for: one state, part of a class name, 50 rows (the default page).
QUERY = "/?state=finished&class=add"
_CLASSES = ("add", "AddWorkChain", "Parent", "Child", "double", "relax", "scf")
_INSERT_CHUNK = 5_000


@dataclass
class _Served:
    runtime: Runtime
    server: Any
    client: httpx.Client


def _node(index: int, start: dt.datetime) -> dict[str, Any]:
    state = "excepted" if index % 20 == 0 else "killed" if index % 20 == 1 else "finished"
    attributes: dict[str, Any] = {
        "process_label": _CLASSES[index % len(_CLASSES)],
        "process_state": state,
        "process_class": "benchmarks.workloads.web_list.Fake",
    }
    if state == "finished":
        attributes |= {"exit_status": 0 if index % 10 else 3, "exit_message": None}
    moment = start + dt.timedelta(milliseconds=index)
    return {
        "uuid": str(uuid.uuid4()),
        "node_type": "process.workcalculation",
        "label": f"run {index}",
        "description": "",
        "attributes": attributes,
        "ctime": moment,
        "mtime": moment,
    }


def fill(runtime: Runtime, count: int) -> None:
    """Insert ``count`` process nodes into the runtime's database, in a few transactions."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with runtime.storage.write_session() as session:
        for first in range(0, count, _INSERT_CHUNK):
            rows = [_node(i, start) for i in range(first, min(count, first + _INSERT_CHUNK))]
            session.execute(sa.insert(DbNode), rows)
            session.commit()


def _setup(count: int) -> Any:
    def setup(runtime: Runtime) -> _Served:
        from actors.web import BackgroundServer, WebSettings

        fill(runtime, count)
        server = BackgroundServer(WebSettings(port=0, home=runtime.home), runtime).__enter__()
        return _Served(runtime, server, httpx.Client(base_url=server.url, timeout=60.0))

    return setup


def _run_once(served: _Served, _i: int) -> None:
    answer = served.client.get(QUERY)
    if answer.status_code != 200 or "newest first" not in answer.text:
        raise RuntimeError(f"the list page answered {answer.status_code}: {answer.text[:200]}")


def _teardown(served: _Served) -> None:
    served.client.close()
    served.server.close()


def _workload(count: int) -> Workload:
    return Workload(
        name="web_list",
        description=(
            f"dashboard page {QUERY} (50 rows) over {count:,} processes, through HTTP "
            "(latency = what a user waits for the page)"
        ),
        peer="workactors",
        kind=Kind.ENGINE,
        n=50,
        quick_n=20,
        run_once=_run_once,
        setup=_setup(count),
        teardown=_teardown,
        warmup=5,
        unit="pages",
        batch=count,
        quick_batch=QUICK_PROCESSES,
        resize=_workload,
        unavailable=None
        if importlib.util.find_spec("starlette") and importlib.util.find_spec("uvicorn")
        else "needs the dashboard's extra: pip install 'workactors[web]'",
    )


WORKLOAD = _workload(PROCESSES)
