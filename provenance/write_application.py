"""How the provenance actor applies one write: check it, insert its rows, resolve its pks.

The actor decides when to commit and who to tell; this applies a write inside the open
transaction so that a failure undoes that write and nothing else: every record is checked
against the value rule before anything is applied, and the inserts of a write run as one
undoable block (``row_writers``). It remembers the pks of the nodes it inserted or looked up,
since links and updates name nodes by uuid and nearly always name recent ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from provenance.errors import (
    FencedError,
    InvalidValueError,
    NotExistentError,
    StorageError,
)
from provenance.fencing import Fence
from provenance.outages import storage_failure
from provenance.record_checks import check_ops, describe_error
from provenance.records import (
    AttributeUpdate,
    GroupAddition,
    LinkRecord,
    LogRecord,
    NodeRecord,
    WriteOp,
)
from provenance.row_writers import RowWriter, row_writer
from provenance.timestamps import utcnow

#: Uuids whose pk the applier remembers; past this the memory starts over.
PK_CACHE_LIMIT = 200_000
#: What applying a write did: the pks of new nodes, and per node pk the uuid and attributes
#: of its update to run at commit.
Applied = tuple[dict[str, int], dict[int, tuple[str, dict[str, Any]]]]


class WriteApplier:
    """Applies writes for one provenance actor, on its connection, in its transaction."""

    def __init__(self, dialect: str) -> None:
        #: The hot statements for ``dialect``; the actor's queued updates use them too.
        self.rows: RowWriter = row_writer(dialect)
        self._pks: dict[str, int] = {}

    def forget(self) -> None:
        """Forget every remembered pk: after a rollback, those pks may be handed out again."""
        self._pks.clear()

    def apply(
        self, ops: Sequence[WriteOp], fence: Fence | None, connect: Callable[[], Any]
    ) -> Applied | Exception:
        """Apply ``ops`` on the connection ``connect`` gives (once they passed the value
        check) if ``fence`` (if any) still holds; return what they did, or the error to give
        their writer."""
        try:
            # Refused before anything is applied: the error names the node and the field.
            check_ops(ops)
        except (InvalidValueError, TypeError) as exc:
            return exc
        except Exception as exc:  # a record that even the check cannot read
            return StorageError(f"provenance write refused: {describe_error(exc)}")
        connection = connect()
        try:
            if fence is not None:
                fence.check(connection)  # locks the claim until this transaction commits
            if all(isinstance(op, AttributeUpdate) for op in ops):
                # State changes only queue updates for the commit: nothing to roll back.
                return self._apply_ops(connection, ops)
            return self._apply_in_savepoint(connection, ops)
        except (NotExistentError, FencedError) as exc:
            return exc
        except Exception as exc:  # any failure is this write's alone
            return storage_failure("provenance write failed and was rolled back", exc)

    def _apply_in_savepoint(self, connection: Any, ops: Sequence[WriteOp]) -> Applied:
        """Apply ``ops`` so that a failure undoes all of them and nothing else."""
        grouped = any(isinstance(op, GroupAddition) for op in ops)  # written through Core
        guard = (
            self.rows.savepoint(connection, "provenance_write")
            if grouped
            else self.rows.undoable(connection)
        )
        try:
            with guard:
                return self._apply_ops(connection, ops)
        except BaseException:
            # The rows are gone, and SQLite hands their pks to the next nodes: a cached pk of
            # a rolled-back node would link to a stranger.
            for op in ops:
                if isinstance(op, NodeRecord):
                    self._pks.pop(op.uuid, None)
            raise

    def _apply_ops(self, connection: Any, ops: Sequence[WriteOp]) -> Applied:
        """Execute inserts now; return new pks and the attribute updates to apply at commit."""
        created: dict[str, int] = {}
        updates: dict[int, tuple[str, dict[str, Any]]] = {}
        nodes = [op for op in ops if isinstance(op, NodeRecord)]
        if nodes:
            created = self._insert_nodes(connection, nodes)
        links = [op for op in ops if isinstance(op, LinkRecord)]
        if links:
            self._insert_links(connection, links)
        for op in ops:
            match op:
                case AttributeUpdate(uuid=uuid, attributes=attributes):
                    # Replacements of one node coalesce: only the last before a commit is run.
                    updates[self._resolve(connection, [uuid])[uuid]] = (uuid, dict(attributes))
                case GroupAddition():
                    self.rows.add_to_group(connection, op, self._resolve)
        logs = [op for op in ops if isinstance(op, LogRecord)]
        if logs:
            by_uuid = {op.node_uuid for op in logs if op.node_pk is None and op.node_uuid}
            pks = self._resolve(connection, by_uuid) if by_uuid else {}
            self.rows.insert_logs(connection, [self._log_row(op, pks) for op in logs])
        return created, updates

    def _insert_nodes(self, connection: Any, nodes: Sequence[NodeRecord]) -> dict[str, int]:
        now = utcnow()
        rows = [
            {
                "uuid": node.uuid,
                "node_type": node.node_type,
                "label": node.label,
                "description": node.description,
                "attributes": dict(node.attributes),
                "ctime": node.ctime or now,
                "mtime": now,
                "node_hash": node.node_hash,
            }
            for node in nodes
        ]
        created = self.rows.insert_nodes(connection, rows)
        self._remember(created)
        return created

    def _insert_links(self, connection: Any, links: Sequence[LinkRecord]) -> None:
        pks = self._resolve(
            connection, {link.source_uuid for link in links} | {link.target_uuid for link in links}
        )
        self.rows.insert_links(
            connection,
            [
                {
                    "input_id": pks[link.source_uuid],
                    "output_id": pks[link.target_uuid],
                    "link_type": link.link_type.value,
                    "label": link.label,
                }
                for link in links
            ],
        )

    @staticmethod
    def _log_row(op: LogRecord, pks: dict[str, int]) -> dict[str, Any]:
        return {
            "node_id": op.node_pk if op.node_pk is not None else pks[op.node_uuid or ""],
            "time": op.time if op.time.tzinfo else op.time.replace(tzinfo=dt.UTC),
            "levelname": op.levelname,
            "loggername": op.loggername,
            "message": op.message,
            "metadata": dict(op.metadata),
        }

    def _resolve(self, connection: Any, uuids: Iterable[str]) -> dict[str, int]:
        wanted = set(uuids)
        found = {uuid: self._pks[uuid] for uuid in wanted if uuid in self._pks}
        unknown = wanted - found.keys()
        if unknown:
            loaded = self.rows.select_pks(connection, unknown)
            self._remember(loaded)
            found.update(loaded)
            if missing := unknown - loaded.keys():
                raise NotExistentError(
                    f"nodes {sorted(missing)} are not stored; store them before linking to them"
                )
        return found

    def _remember(self, pks: dict[str, int]) -> None:
        if len(self._pks) > PK_CACHE_LIMIT:
            self._pks.clear()
        self._pks.update(pks)


__all__ = ["PK_CACHE_LIMIT", "Applied", "WriteApplier", "storage_failure"]
