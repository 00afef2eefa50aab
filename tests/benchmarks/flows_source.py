"""Reading a peer's ``flows.py`` as source: it imports the peer, which only its venv has."""

from __future__ import annotations

import ast
from pathlib import Path


def constant(flows: Path, name: str) -> object:
    """The literal value of the module-level ``name = ...`` in ``flows``."""
    for node in ast.parse(flows.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not in {flows}")


def workload_keys(flows: Path) -> set[str]:
    """The keys of the annotated ``WORKLOADS`` dict literal in ``flows``."""
    for node in ast.parse(flows.read_text()).body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "WORKLOADS":
            assert isinstance(node.value, ast.Dict)
            return {ast.literal_eval(k) for k in node.value.keys if k is not None}
    raise AssertionError(f"no WORKLOADS in {flows}")
