"""The aiida-core side agrees with the registry, without aiida-core installed here.

``flows.py`` and ``runner.py`` run in aiida-core's own interpreter, so these tests read them
as source (``flows``) or load only what needs no aiida-core (``runner``'s request loop).
"""

from __future__ import annotations

import ast
import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType

import benchmarks.aiida_peer
from benchmarks.workloads import WORKLOADS
from benchmarks.workloads.shapes import FAN_OUT, LOOP_COUNT

AIIDA_DIR = Path(benchmarks.aiida_peer.__file__).parent


def _flows_tree() -> ast.Module:
    return ast.parse((AIIDA_DIR / "flows.py").read_text())


def _constant(tree: ast.Module, name: str) -> object:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not in flows.py")


def _runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_runner", AIIDA_DIR / "runner.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_aiida_flows_have_the_same_shapes() -> None:
    tree = _flows_tree()
    assert _constant(tree, "FAN_OUT") == FAN_OUT
    assert _constant(tree, "LOOP_COUNT") == LOOP_COUNT


def test_every_aiida_registry_entry_has_a_flow_and_back() -> None:
    tree = _flows_tree()
    keys = None
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "WORKLOADS":
            assert isinstance(node.value, ast.Dict)
            keys = {ast.literal_eval(k) for k in node.value.keys if k is not None}
    assert keys == {w.label for w in WORKLOADS if w.peer == "aiida"}


def test_the_runner_times_a_repeat_and_reports_progress() -> None:
    runner = _runner()
    out = io.StringIO()
    server = runner.Server(out, seed=1)
    calls: list[int] = []
    server.run_once = calls.append

    reply = server.handle({"op": "repeat", "start": 5, "count": 3, "sample_threads": True})

    assert calls == [5, 6, 7]
    assert len(reply["latencies_s"]) == 3
    assert reply["wall_s"] >= sum(reply["latencies_s"])
    assert reply["peak_threads"] >= 1
    progress = sum(json.loads(line)["done"] for line in out.getvalue().splitlines())
    assert progress + reply["unreported"] == 3


def test_the_runner_answers_errors_and_exit_on_its_protocol() -> None:
    runner = _runner()
    out = io.StringIO()
    server = runner.Server(out, seed=1)

    server.serve(io.StringIO('{"op": "repeat", "start": 0, "count": 1}\n{"op": "exit"}\n'))

    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert events[0]["event"] == "error"
    assert "repeat before setup" in events[0]["error"]
    assert events[1] == {"event": "result"}
