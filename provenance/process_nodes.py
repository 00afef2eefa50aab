"""Process nodes: the record of what a process did, and where it is now.

SQLAlchemy and the models are imported by the first read (see ``provenance.nodes``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from provenance.nodes import Node
from provenance.process_state import ProcessState
from provenance.reading import database_of, read_storage, sync_backend_of, sync_open_backend
from provenance.records import AttributeUpdate, LinkType
from provenance.values import encode_json, is_storable


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A log line stored for a node."""

    time: dt.datetime
    levelname: str
    loggername: str
    message: str
    metadata: dict[str, Any]


#: States whose attributes never change again: nothing revives a FINISHED or KILLED process
#: (``requeue`` may revive an EXCEPTED one whose checkpoint was refused, so that one is live).
FINAL_STATES = frozenset({ProcessState.FINISHED.value, ProcessState.KILLED.value})


class ProcessNode(Node):
    """The node of a process run.

    Its state attributes are read from the database on every access once stored, so that a node
    held by one program shows what a daemon worker in another is doing; once the node was
    loaded FINISHED or KILLED they are served from memory, since they cannot change any more:
    reading ``exit_status`` of the many nodes a query found costs no query per node.
    """

    node_type = "process"

    #: True while every attribute came through ``set_process_attributes``, which checks it: a
    #: new node's. One loaded from the database keeps this False (its values were not checked
    #: here), and the provenance actor checks its records as it checks any.
    _attributes_checked: bool = False

    def __init__(self, *, label: str = "", description: str = "") -> None:
        super().__init__(label=label, description=description)
        self._attributes_checked = True

    def _values_checked(self) -> bool:
        return self._attributes_checked

    def _state_attributes(self) -> dict[str, Any]:
        """The attributes that say where the process is, as fresh as they can change."""
        if self._attributes.get("process_state") in FINAL_STATES:
            return self._attributes
        return self._fresh_attributes()

    def _fresh_attributes(self) -> dict[str, Any]:
        """Every attribute as the database holds it now (in memory until stored)."""
        if self._pk is None:
            return self._attributes
        # Read your writes: a state recorded a moment ago (not waited for) is committed first;
        # nothing to wait for costs nothing.
        sync_backend_of(self._database)
        import sqlalchemy as sa

        from provenance.models import DbNode

        with database_of(self._database).read_session() as session:
            stored = session.execute(
                sa.select(DbNode.attributes).where(DbNode.id == self._pk)
            ).scalar_one_or_none()
        return dict(stored) if stored is not None else self._attributes

    @property
    def process_state(self) -> ProcessState | None:
        """The state of the process, None if it never started."""
        value = self._state_attributes().get("process_state")
        return None if value is None else ProcessState(value)

    @property
    def exit_status(self) -> int | None:
        """0 on success, the exit code's status on a handled failure, None until finished."""
        value: int | None = self._state_attributes().get("exit_status")
        return value

    @property
    def exit_message(self) -> str | None:
        """The message of the exit code the process ended with, if any."""
        value: str | None = self._state_attributes().get("exit_message")
        return value

    @property
    def exception(self) -> str | None:
        """The traceback of an EXCEPTED process."""
        value: str | None = self._state_attributes().get("exception")
        return value

    @property
    def process_label(self) -> str:
        """The name of the process class or function."""
        value: str = self._attributes.get("process_label", "")
        return value

    @property
    def process_class(self) -> str:
        """Import path of the process class (``module.QualName``)."""
        value: str = self._attributes.get("process_class", "")
        return value

    @property
    def is_terminated(self) -> bool:
        """True once FINISHED, EXCEPTED or KILLED."""
        state = self.process_state
        return state is not None and state.is_terminal

    @property
    def is_finished_ok(self) -> bool:
        """True if FINISHED with exit status 0."""
        return self.process_state is ProcessState.FINISHED and self.exit_status == 0

    @property
    def is_excepted(self) -> bool:
        """True if an exception ended the process."""
        return self.process_state is ProcessState.EXCEPTED

    @property
    def is_killed(self) -> bool:
        """True if the process was killed."""
        return self.process_state is ProcessState.KILLED

    @property
    def called(self) -> list[ProcessNode]:
        """The processes this one called, in order."""
        return [
            node
            for node in self.get_outputs(link_type=LinkType.CALL)
            if isinstance(node, ProcessNode)
        ]

    @property
    def caller(self) -> ProcessNode | None:
        """The process that called this one, if any."""
        callers = self.get_inputs(link_type=LinkType.CALL)
        caller = callers[0] if callers else None
        return caller if isinstance(caller, ProcessNode) else None

    @property
    def logs(self) -> list[LogEntry]:
        """The log records of this node, oldest first.

        Log lines are written in batches behind the caller's back; the batch is committed
        first, so that a line reported a moment ago (in the previous step) is here.
        """
        if self._pk is None:
            return []
        sync_backend_of(self._database)
        import sqlalchemy as sa

        from provenance.models import DbLog

        with database_of(self._database).read_session() as session:
            rows = session.execute(
                sa.select(DbLog).where(DbLog.node_id == self._pk).order_by(DbLog.id)
            ).scalars()
            return [
                LogEntry(row.time, row.levelname, row.loggername, row.message, dict(row.meta))
                for row in rows
            ]

    def set_process_attributes(self, **attributes: Any) -> AttributeUpdate:
        """Change process attributes in memory and return the update that stores them.

        Only the engine that runs the process calls this; the caller sends the update to the
        provenance actor. Text is encoded (``provenance.values.encode_text``): a traceback or
        exit message is stored whatever characters it holds, the same on every backend.

        Raises:
            TypeError: for a value that is not JSON data.
            InvalidValueError: for a number outside the value rule (an exit status beyond 64
                bits); nothing is changed then.
        """
        self.change_process_attributes(**attributes)
        return self.attribute_update()

    def change_process_attributes(self, **attributes: Any) -> None:
        """Change process attributes in memory only, for a write that stores them later (the
        launch's node record, the update of the end): as ``set_process_attributes`` without
        making an update nobody sends.

        Raises:
            TypeError, InvalidValueError: as ``set_process_attributes``; nothing is changed.
        """
        if not is_storable(attributes):  # nearly never: encode, or say what is wrong
            attributes = encode_json(attributes, f"the process attributes of {type(self).__name__}")
        self._attributes.update(attributes)

    def attribute_update(self) -> AttributeUpdate:
        """The update that stores the process attributes as they are now."""
        return AttributeUpdate(self._uuid, dict(self._attributes), checked=self._attributes_checked)


#: Pks per query of ``stored_process_states``: under SQLite's oldest bound-parameter limit (999).
STATES_PER_QUERY = 900


def stored_process_states(pks: Collection[int]) -> dict[int, ProcessState]:
    """The recorded state of each stored process node among ``pks`` that has one, read in one
    query per ``STATES_PER_QUERY`` pks.

    A parent that awaits thousands of children which ended unseen (the registry keeps only so
    many ends) reads them all here, instead of two queries per child through ``load_node``.
    Pks of no stored process node, or of one without a state, are left out: the caller reads
    those one by one, which also says why they cannot be awaited.
    """
    wanted = sorted(set(pks))
    if not wanted:
        return {}
    # Read your writes, as ``process_state`` does: an end recorded a moment ago is committed.
    sync_open_backend()
    import sqlalchemy as sa

    from provenance.models import DbNode

    states: dict[int, ProcessState] = {}
    with read_storage().read_session() as session:
        for start in range(0, len(wanted), STATES_PER_QUERY):
            chunk = wanted[start : start + STATES_PER_QUERY]
            rows = session.execute(
                sa.select(DbNode.id, DbNode.node_type, DbNode.attributes).where(
                    DbNode.id.in_(chunk)
                )
            )
            for pk, node_type, attributes in rows:
                value = (attributes or {}).get("process_state")
                if value is not None and issubclass(Node.class_of(node_type), ProcessNode):
                    states[pk] = ProcessState(value)
    return states


class Calculation(ProcessNode):
    """The node of a plain ``Process``."""

    node_type = "process.calculation"


class WorkCalculation(ProcessNode):
    """The node of a workfunction or a work chain."""

    node_type = "process.workcalculation"
