"""The aiida-core side agrees with the registry, without aiida-core installed here.

``flows.py`` runs in aiida-core's own interpreter, so these tests read it as source.
"""

from __future__ import annotations

import ast
from pathlib import Path

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
