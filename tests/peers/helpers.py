"""What the ported peer tests share: run a process and insist that it finished ok."""

from __future__ import annotations

from typing import Any

from actors import Process, Runtime
from provenance import ProcessNode


def run_and_check_success(rt: Runtime, process: type[Process], **inputs: Any) -> ProcessNode:
    """Run ``process`` blockingly and check that it ended FINISHED with status 0.

    aiida-core's ``run_and_check_success`` (tests/engine/test_work_chain.py), on a runtime.
    """
    _result, node = rt.run_get_node(process, **inputs)
    assert isinstance(node, ProcessNode)
    assert node.is_finished_ok, (node.process_state, node.exit_status, node.exception)
    return node
