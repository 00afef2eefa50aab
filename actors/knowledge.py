"""``DefaultKnowledgeProvider``: questions about processes, answered from the database."""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa

from provenance.backend import get_backend
from provenance.data import Data
from provenance.errors import NotExistentError
from provenance.models import DbNode
from provenance.nodes import load_node
from provenance.process_nodes import ProcessNode
from provenance.records import LinkType


class DefaultKnowledgeProvider:
    """What is known of processes, past and present, from the provenance database."""

    @staticmethod
    def _process(pid: int) -> ProcessNode:
        node = load_node(pid)
        if not isinstance(node, ProcessNode):
            raise NotExistentError(f"node {pid} is a {type(node).__name__}, not a process")
        return node

    def has_finished(self, pid: int) -> bool:
        """True if process ``pid`` has terminated (finished, excepted or killed)."""
        return self._process(pid).is_terminated

    def get_inputs(self, pid: int) -> dict[str, Data]:
        """The input nodes of ``pid`` by name."""
        inputs = self._process(pid).get_inputs_dict(link_type=LinkType.INPUT)
        return {name: cast(Data, node) for name, node in inputs.items()}

    def get_input(self, pid: int, port_name: str) -> Data:
        """One input of ``pid``.

        Raises:
            NotExistentError: if ``pid`` has no such input.
        """
        inputs = self.get_inputs(pid)
        if port_name not in inputs:
            raise NotExistentError(f"process {pid} has no input {port_name!r} ({sorted(inputs)})")
        return inputs[port_name]

    def get_outputs(self, pid: int) -> dict[str, Data]:
        """The output nodes of ``pid`` by name."""
        process = self._process(pid)
        return {
            name: node
            for name, node in process.get_outputs_dict().items()
            if isinstance(node, Data)
        }

    def get_output(self, pid: int, port_name: str) -> Data:
        """One output of ``pid``.

        Raises:
            NotExistentError: if ``pid`` has no such output.
        """
        outputs = self.get_outputs(pid)
        if port_name not in outputs:
            raise NotExistentError(f"process {pid} has no output {port_name!r} ({sorted(outputs)})")
        return outputs[port_name]

    def get_pids_from_classname(self, classname: str) -> list[int]:
        """Pids of every process of that class, by label (``Name``) or path (``mod.Name``)."""
        key = "process_class" if "." in classname else "process_label"
        with get_backend().storage.read_session() as session:
            return list(
                session.execute(
                    sa.select(DbNode.id)
                    .where(
                        DbNode.node_type.like("process%"),
                        DbNode.attributes[key].as_string() == classname,
                    )
                    .order_by(DbNode.id)
                ).scalars()
            )
