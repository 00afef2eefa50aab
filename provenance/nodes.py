"""The node API shared by data and process nodes, and ``load_node``.

SQLAlchemy and the models are imported by the first read, not with this module: a program
that only runs processes writes its nodes through the provenance actor and never needs them.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

from provenance.backend import get_backend, open_backend
from provenance.errors import ModificationNotAllowedError, NotExistentError
from provenance.identifiers import find_node_row, parse_identifier
from provenance.preloading import preloaded_rows
from provenance.reading import database_of, read_storage, sync_open_backend
from provenance.records import LinkType, NodeRecord
from provenance.storage import url_being_read
from provenance.uuids import new_uuid
from provenance.values import check_label, check_text, label_is_storable, text_is_storable

if TYPE_CHECKING:
    import sqlalchemy as sa

    from provenance.models import DbNode


class Node:
    """A vertex of the provenance graph.

    A node is created unstored (no pk); ``store()`` writes it and gives it a pk. Nodes refer to
    each other through links, which only processes create.
    """

    node_type: ClassVar[str] = "node"
    _classes: ClassVar[dict[str, type[Node]]] = {}
    #: The URL of the database the node was stored in or loaded from (None: not stored, or
    #: not known), where its later reads go. Not pickled: a checkpoint's node is read where
    #: the process that loads it runs.
    _database: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "node_type" in cls.__dict__:
            # Refused where the class is written, on every backend alike: PostgreSQL refused
            # its nodes at commit, SQLite stored them.
            check_label(cls.node_type, f"the node_type of {cls.__qualname__}")
            Node._classes[cls.node_type] = cls

    def __init__(self, *, label: str = "", description: str = "") -> None:
        self._uuid = new_uuid()
        self._pk: int | None = None
        # Most nodes have neither: the empty text is storable, nothing else need be looked at.
        if label != "" and not label_is_storable(label):
            check_label(label, f"the label of a {type(self).__name__}")
        if description != "" and not text_is_storable(description):
            _check_description(description, type(self).__name__)
        self._label = label
        self._description = description
        self._attributes: dict[str, Any] = {}
        self._ctime: dt.datetime | None = None
        self._node_hash: str | None = None

    @property
    def uuid(self) -> str:
        """The universally unique id, fixed at creation."""
        return self._uuid

    @property
    def pk(self) -> int | None:
        """The database id, or None while unstored."""
        return self._pk

    @property
    def is_stored(self) -> bool:
        """True once the node is in the database."""
        return self._pk is not None

    @property
    def label(self) -> str:
        """A short free-form name."""
        return self._label

    @label.setter
    def label(self, value: str) -> None:
        self._check_mutable()
        self._label = check_label(value, f"the label of {self!r}")

    @property
    def description(self) -> str:
        """A free-form description."""
        return self._description

    @description.setter
    def description(self, value: str) -> None:
        self._check_mutable()
        self._description = _check_description(value, type(self).__name__)

    @property
    def ctime(self) -> dt.datetime | None:
        """When the node was stored."""
        return self._ctime

    @property
    def attributes(self) -> dict[str, Any]:
        """A copy of the node's attributes."""
        return dict(self._attributes)

    def clone(self) -> Self:
        """A new, unstored node with the same content."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._uuid = new_uuid()
        clone._pk = None
        clone._ctime = None
        clone._attributes = copy.deepcopy(self._attributes)
        clone._node_hash = None
        clone._database = None
        return clone

    def store(self) -> Self:
        """Write the node to the database (once; storing again does nothing)."""
        if not self.is_stored:
            pks = get_backend().write(self._records_to_store())
            self._mark_stored(pks)
        return self

    def _records_to_store(self) -> list[NodeRecord]:
        """The records that storing this node writes: itself, after anything it depends on."""
        return [self._record()]

    def _record(self) -> NodeRecord:
        return NodeRecord(
            uuid=self._uuid,
            node_type=self.node_type,
            attributes=self._attributes_to_store(),
            label=self._label,
            description=self._description,
            node_hash=self._content_hash(),
            checked=self._values_checked(),
        )

    def _values_checked(self) -> bool:
        """True if the label, the description and every attribute passed the value rule as
        they were set, so that the provenance actor need not check the record again
        (``NodeRecord.checked``). Not so here: a data node's content may change in place."""
        return False

    def _content_hash(self) -> str | None:
        """The hash stored with the node (``provenance.hashing``); None if it has none."""
        return self._node_hash

    @property
    def node_hash(self) -> str | None:
        """The content hash caching matches on, None for a node stored without one."""
        return self._node_hash if self._pk is not None else self._content_hash()

    @property
    def cached_from(self) -> str | None:
        """The uuid of the process whose results this process node reused, else None."""
        value = (
            self._attributes.get("cached_from") if self.node_type.startswith("process") else None
        )
        return value if isinstance(value, str) else None

    def _attributes_to_store(self) -> dict[str, Any]:
        return dict(self._attributes)

    def _mark_stored(self, pks: Mapping[str, int]) -> None:
        self._node_hash = self._content_hash()
        self._pk = pks[self._uuid]
        self._ctime = dt.datetime.now(dt.UTC)
        backend = open_backend()
        self._database = None if backend is None else backend.storage.url

    def _check_mutable(self) -> None:
        if self.is_stored:
            raise ModificationNotAllowedError(
                f"{self!r} is stored and immutable; create a new node instead"
            )

    @staticmethod
    def class_of(node_type: str) -> type[Node]:
        """The node class stored rows of ``node_type`` load as (``Node`` for an unknown one)."""
        return Node._classes.get(node_type, Node)

    @classmethod
    def _from_row(cls, row: DbNode) -> Node:
        node_class = Node.class_of(row.node_type)
        node = node_class.__new__(node_class)
        node._uuid = row.uuid
        node._pk = row.id
        node._label = row.label
        node._description = row.description
        node._attributes = dict(row.attributes)
        node._ctime = row.ctime
        node._node_hash = row.node_hash
        node._database = url_being_read()
        node._init_loaded()
        return node

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_database", None)
        return state

    def _init_loaded(self) -> None:
        """Rebuild derived state of a node loaded from the database."""

    def _links(self, *, incoming: bool, link_type: LinkType | None) -> list[tuple[str, Node]]:
        if self._pk is None:
            return []
        import sqlalchemy as sa

        from provenance.models import DbLink, DbNode

        mine, other = (
            (DbLink.output_id, DbLink.input_id)
            if incoming
            else (
                DbLink.input_id,
                DbLink.output_id,
            )
        )
        query = (
            sa.select(DbLink.label, DbNode)
            .join(DbNode, DbNode.id == other)
            .where(mine == self._pk)
            .order_by(DbLink.id)
        )
        if link_type is not None:
            query = query.where(DbLink.link_type == link_type.value)
        with database_of(self._database).read_session() as session:
            return [(label, Node._from_row(row)) for label, row in session.execute(query)]

    def get_inputs(self, link_type: LinkType | None = None) -> list[Node]:
        """The nodes linked into this one, oldest link first."""
        return [node for _label, node in self._links(incoming=True, link_type=link_type)]

    def get_inputs_dict(self, link_type: LinkType | None = None) -> dict[str, Node]:
        """The nodes linked into this one, by link label."""
        return dict(self._links(incoming=True, link_type=link_type))

    def get_outputs(self, link_type: LinkType | None = None) -> list[Node]:
        """The nodes this one links to, oldest link first."""
        return [node for _label, node in self._links(incoming=False, link_type=link_type)]

    def get_outputs_dict(self, link_type: LinkType | None = None) -> dict[str, Node]:
        """The nodes this one links to, by link label."""
        return dict(self._links(incoming=False, link_type=link_type))

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: uuid: {self._uuid} (pk: {self._pk})>"


def _check_description(description: str, class_name: str) -> str:
    if not isinstance(description, str):
        raise TypeError(f"the description of a {class_name} must be a str")
    return check_text(description, f"the description of a {class_name}")


def load_node(identifier: int | str) -> Node:
    """Load a stored node by pk, full uuid or unambiguous uuid prefix.

    No runtime is needed: without one, the default home's database is read
    (``provenance.reading``). Inside a runtime, a miss is retried once after the provenance
    actor has committed what it was sent, so that a step that just launched a child finds it.

    Raises:
        TypeError: for an identifier that is neither an int nor a str.
        ValueError: for a str that is neither digits nor (a prefix of) a uuid.
        NotExistentError: if no node matches.
        AmbiguousIdentifierError: if a prefix matches several nodes (they are listed).
    """
    parse_identifier(identifier)  # a bad identifier fails before any database is opened
    try:
        return _load_once(identifier)
    except NotExistentError:
        if not sync_open_backend():
            raise
    return _load_once(identifier)


def _load_once(identifier: int | str) -> Node:
    with read_storage().read_session() as session:
        return Node._from_row(find_node_row(session, identifier))


@functools.cache
def _by_uuids() -> sa.Select[DbNode]:
    """Built once: building it for every call was a quarter of the cost of a call."""
    import sqlalchemy as sa

    from provenance.models import DbNode

    return sa.select(DbNode).where(DbNode.uuid.in_(sa.bindparam("uuids", expanding=True)))


def load_nodes(uuids: Iterable[str]) -> dict[str, Node]:
    """Load several stored nodes by uuid in one query (none for those an enclosing
    ``provenance.preloading.preloaded`` block holds); the result is keyed by uuid.

    Raises:
        NotExistentError: naming the uuids that are not in the database.
    """
    wanted = set(uuids)
    if not wanted:
        return {}
    nodes = {uuid: Node._from_row(row) for uuid, row in preloaded_rows(wanted).items()}
    if rest := wanted - nodes.keys():
        with read_storage().read_session() as session:
            rows = session.execute(_by_uuids(), {"uuids": list(rest)}).scalars()
            nodes.update((row.uuid, Node._from_row(row)) for row in rows)
    missing = wanted - nodes.keys()
    if missing:
        raise NotExistentError(
            f"no node with uuid {', '.join(sorted(missing))} in the provenance database"
        )
    return nodes
