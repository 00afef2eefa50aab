"""What a checkpoint holds of every process, and a bare process filled again from it.

``Process.save_instance_state`` and ``Process._load_instance_state`` are the extension points
(a work chain adds its context and outline position, and calls super); the state common to all
processes is built and read here, so that the class users subclass is not also the checkpoint
codec. Stored nodes travel by uuid and are read back from the provenance database in one query;
nodes not stored yet travel by value, and so do all of them when the state is restored in the
same runtime (passivation), which spares those reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from actors.call_keys import start_counting
from actors.errors import SpecError
from actors.nested import frozen, leaves, map_leaves
from actors.states import StateMachine
from provenance.nodes import Node, load_nodes
from provenance.process_nodes import ProcessNode
from provenance.process_state import ProcessState

if TYPE_CHECKING:
    from actors.process import Process


def save_instance_state(process: Process, *, nodes_by_value: bool) -> dict[str, Any]:
    """The state of ``process`` keyed by its ``SaveKeys``; every value is picklable."""
    keys = process.SaveKeys

    def ref(node: Node) -> Node | str:
        return node if nodes_by_value or not node.is_stored else node.uuid

    return {
        keys.CLASS_NAME: type(process).class_path(),
        keys.PID: process.pid,
        keys.NODE_UUID: ref(process._node),
        keys.INPUTS: map_leaves(ref, process._inputs),
        keys.OUTPUTS: {name: ref(node) for name, node in process._outputs.items()},
        keys.STATE: process.state.value,
        keys.STEP_INDEX: process._step_index,
        keys.RETRY_ATTEMPTS: process._retry_attempts,
    }


def load_instance_state(process: Process, state: Mapping[str, Any]) -> None:
    """Fill the bare ``process`` (made by ``__new__``) from ``state``.

    Raises:
        SpecError: if the node the state names is not a process node.
    """
    keys = process.SaveKeys
    refs: list[Any] = [
        state[keys.NODE_UUID],
        *(value for _path, value in leaves(state[keys.INPUTS])),
        *state[keys.OUTPUTS].values(),
    ]
    loaded = load_nodes(ref for ref in refs if isinstance(ref, str))

    def node_of(ref: Node | str) -> Any:
        return loaded[ref] if isinstance(ref, str) else ref

    node = node_of(state[keys.NODE_UUID])
    if not isinstance(node, ProcessNode):
        raise SpecError(f"checkpoint of {process.process_label()}: {node!r} is not a process")
    process._node = node
    process._inputs = frozen(map_leaves(node_of, state[keys.INPUTS]))
    process._outputs = {name: node_of(ref) for name, ref in state[keys.OUTPUTS].items()}
    process._machine = StateMachine(ProcessState(state[keys.STATE]))
    process._runtime = None
    process._call_stack = ()
    start_counting(process, state.get(keys.STEP_INDEX, 0))
    process._retry_attempts = state.get(keys.RETRY_ATTEMPTS, 0)


__all__ = ["load_instance_state", "save_instance_state"]
