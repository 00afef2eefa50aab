"""The aiida-core side agrees with the registry, without aiida-core installed here.

``flows.py`` runs in aiida-core's own interpreter, so these tests read it as source.
"""

from __future__ import annotations

from pathlib import Path

import benchmarks.aiida_peer
from benchmarks.workloads import WORKLOADS
from benchmarks.workloads.shapes import FAN_OUT, LOOP_COUNT
from tests.benchmarks.flows_source import constant, workload_keys

FLOWS = Path(benchmarks.aiida_peer.__file__).with_name("flows.py")


def test_the_aiida_flows_have_the_same_shapes() -> None:
    assert constant(FLOWS, "FAN_OUT") == FAN_OUT
    assert constant(FLOWS, "LOOP_COUNT") == LOOP_COUNT


def test_every_aiida_registry_entry_has_a_flow_and_back() -> None:
    assert workload_keys(FLOWS) == {w.label for w in WORKLOADS if w.peer == "aiida"}
