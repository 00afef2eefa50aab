"""The workactors archive format, version 1: what is in the zip, and each record checked.

An archive is a zip file holding exactly these members, at its top level:

``metadata.json``
    ``{"format": "workactors-archive", "version": 1, "created": ISO time, "workactors": version,
    "counts": {"nodes": n, "links": n, "logs": n, "groups": n},
    "sha256": {member name: hex digest of the member}}``.
``nodes.jsonl``
    one JSON object a line: ``uuid``, ``node_type``, ``label``, ``description``, ``attributes``
    (JSON object), ``ctime`` and ``mtime`` (ISO 8601 with offset), ``hash`` (the content hash
    caching matches on, 64 hex digits, or null). A data node of a type of ``provenance.data``
    holds a value of that type (an ``Int`` an int, a ``Float`` a number, a ``List`` a list...).
``links.jsonl``
    ``input`` and ``output`` (node uuids), ``type`` (``input``, ``create``, ``return``,
    ``call``), ``label``.
``logs.jsonl``
    ``node`` (uuid), ``time``, ``levelname``, ``loggername``, ``message``, ``metadata``.
``groups.jsonl``
    ``uuid``, ``label``, ``type_string``, ``description``, ``time``, ``nodes`` (member uuids).

Every link, log and group member names a node of the archive (an archive is closed); nodes are
identified by uuid, never by pk, so that an archive imports into any database. A reader refuses
another ``format``, a ``version`` it does not know, other members, a member whose digest does
not match (truncated or edited), and records that do not fit the rules above.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from provenance.errors import ArchiveError, InvalidValueError
from provenance.hashing import data_hash
from provenance.process_state import ProcessState
from provenance.records import LinkType
from provenance.values import check_json, check_label, check_text, short_repr

FORMAT_NAME = "workactors-archive"
FORMAT_VERSION = 1
METADATA = "metadata.json"
NODES, LINKS, LOGS, GROUPS = "nodes.jsonl", "links.jsonl", "logs.jsonl", "groups.jsonl"
RECORD_MEMBERS = (NODES, LINKS, LOGS, GROUPS)
MEMBERS = (METADATA, *RECORD_MEMBERS)
#: How many ids one ``IN`` list holds (SQLite allows 32766 bound values).
CHUNK = 5000

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HASH = re.compile(r"^[0-9a-f]{64}$")
_LINK_TYPES = {link_type.value for link_type in LinkType}


def is_process_type(node_type: str) -> bool:
    """True for the node of a process run (as ``node rehash`` tells them apart)."""
    return node_type.startswith("process")


def trusted_hash(node: Mapping[str, Any]) -> str | None:
    """The hash an imported node is stored with: a data node's recomputed from its content,
    none for a process run, whose outputs cannot be verified (``provenance.archive.importer``).
    """
    if is_process_type(node["node_type"]):
        return None
    return data_hash(node["node_type"], node["attributes"])


def iso(moment: dt.datetime) -> str:
    """A stored time as ISO 8601 in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat()


_STATES = {state.value for state in ProcessState}
_PROCESS_TEXTS = ("exit_message", "exception", "process_label", "process_class")


def process_problem(attributes: Mapping[str, Any]) -> str | None:
    """What is wrong with a process node's state attributes (which ``ProcessNode`` reads back),
    or None."""
    state = attributes.get("process_state")
    if state is not None and state not in _STATES:
        return f"process_state {state!r} is not one of {sorted(_STATES)} (or null)"
    status = attributes.get("exit_status")
    if status is not None and (type(status) is not int or not 0 <= status < 2**63):
        return f"exit_status {status!r} is not an integer from 0 to 2**63 - 1 (or null)"
    for key in _PROCESS_TEXTS:
        value = attributes.get(key)
        if value is not None and not isinstance(value, str):
            return f"{key} {value!r} is not a str (or null)"
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    # A Float read back from PostgreSQL's jsonb may be an integer (1e16 -> 10000000000000000).
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_uuid_map(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(item, str) and _UUID.match(item) for item in value.values()
    )


#: What the data node types of ``provenance.data`` hold (their subtypes too): the class, the
#: attribute, a test of its value and what it must be. A value that fails would make the node
#: unloadable, or load as another type than its class says.
_DATA_RULES = (
    ("data.int", "an Int", "value", _is_int, "an int"),
    ("data.float", "a Float", "value", _is_number, "a number"),
    ("data.str", "a Str", "value", lambda value: isinstance(value, str), "a str"),
    ("data.bool", "a Bool", "value", lambda value: isinstance(value, bool), "a bool"),
    ("data.list", "a List", "list", lambda value: isinstance(value, list), "a list"),
    ("data.dict", "a Dict", "dict", lambda value: isinstance(value, dict), "a JSON object"),
    ("data.frozendict", "a FrozenDict", "nodes", _is_uuid_map, "an object of node uuids"),
)


def data_problem(uuid: str, node_type: str, attributes: Mapping[str, Any]) -> str | None:
    """What is wrong with the value a data node holds for its type, or None (also for types
    this version does not know: their rules are their classes')."""
    for base, name, key, fits, expected in _DATA_RULES:
        if node_type != base and not node_type.startswith(f"{base}."):
            continue
        if key not in attributes:
            return f"node {uuid} is {name} ({node_type}) without its {key!r} attribute"
        value = attributes[key]
        if not fits(value):
            return (
                f"node {uuid} is {name} ({node_type}) holding {short_repr(value)} "
                f"({type(value).__name__}), which is not {expected}"
            )
    return None


class RecordChecker:
    """Checks records of one member; errors name the member and the line."""

    def __init__(self, member: str) -> None:
        self.member = member
        self.line = 0

    def fail(self, problem: str) -> ArchiveError:
        """The error for a problem on the current line."""
        return ArchiveError(f"{self.member} line {self.line}: {problem}; the archive is invalid")

    def mapping(self, record: Any, keys: tuple[str, ...]) -> Mapping[str, Any]:
        """``record`` if it is an object with exactly ``keys``."""
        if not isinstance(record, dict):
            raise self.fail(f"expected a JSON object, found {type(record).__name__}")
        if set(record) != set(keys):
            raise self.fail(
                f"expected the keys {', '.join(keys)}, found {', '.join(sorted(record))}"
            )
        return record

    def uuid(self, value: Any, what: str) -> str:
        """A lowercase uuid."""
        if not isinstance(value, str) or not _UUID.match(value):
            raise self.fail(f"{what} {value!r} is not a uuid")
        return value

    def text(self, value: Any, what: str, *, label: bool = False) -> str:
        """Text the database stores (a label fits its column)."""
        if not isinstance(value, str):
            raise self.fail(f"{what} is not a str")
        try:
            return check_label(value, what) if label else check_text(value, what)
        except InvalidValueError as exc:
            raise self.fail(str(exc)) from None

    def json_object(self, value: Any, what: str) -> dict[str, Any]:
        """A JSON object whose values the database stores."""
        if not isinstance(value, dict):
            raise self.fail(f"{what} is not a JSON object")
        try:
            check_json(value, what)
        except (InvalidValueError, TypeError) as exc:
            raise self.fail(str(exc)) from None
        return value

    def time(self, value: Any, what: str) -> dt.datetime:
        """An ISO 8601 time with an offset."""
        try:
            moment = dt.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise self.fail(f"{what} {value!r} is not an ISO 8601 time") from None
        if moment.tzinfo is None:
            raise self.fail(f"{what} {value!r} has no UTC offset")
        return moment

    def node(self, record: Any) -> dict[str, Any]:
        """A node record, its times parsed."""
        fields = self.mapping(
            record,
            ("uuid", "node_type", "label", "description", "attributes", "ctime", "mtime", "hash"),
        )
        node_hash = fields["hash"]
        if node_hash is not None and (not isinstance(node_hash, str) or not _HASH.match(node_hash)):
            raise self.fail(f"hash {node_hash!r} is neither null nor 64 hexadecimal digits")
        node_type = self.text(fields["node_type"], "node_type", label=True)
        if not node_type:
            raise self.fail("node_type is empty")
        attributes = self.json_object(fields["attributes"], "attributes")
        uuid = self.uuid(fields["uuid"], "uuid")
        if is_process_type(node_type) and (problem := process_problem(attributes)):
            raise self.fail(problem)
        if problem := data_problem(uuid, node_type, attributes):
            raise self.fail(problem)
        return {
            "uuid": uuid,
            "node_type": node_type,
            "label": self.text(fields["label"], "label", label=True),
            "description": self.text(fields["description"], "description"),
            "attributes": attributes,
            "ctime": self.time(fields["ctime"], "ctime"),
            "mtime": self.time(fields["mtime"], "mtime"),
            "node_hash": node_hash,
        }

    def link(self, record: Any) -> dict[str, Any]:
        """A link record."""
        fields = self.mapping(record, ("input", "output", "type", "label"))
        if fields["type"] not in _LINK_TYPES:
            raise self.fail(f"link type {fields['type']!r} is not one of {sorted(_LINK_TYPES)}")
        return {
            "input": self.uuid(fields["input"], "input"),
            "output": self.uuid(fields["output"], "output"),
            "type": fields["type"],
            "label": self.text(fields["label"], "label", label=True),
        }

    def log(self, record: Any) -> dict[str, Any]:
        """A log record, its time parsed."""
        fields = self.mapping(
            record, ("node", "time", "levelname", "loggername", "message", "metadata")
        )
        levelname = self.text(fields["levelname"], "levelname")
        if len(levelname) > 50:  # the column's width
            raise self.fail("levelname has more than 50 characters")
        return {
            "node": self.uuid(fields["node"], "node"),
            "time": self.time(fields["time"], "time"),
            "levelname": levelname,
            "loggername": self.text(fields["loggername"], "loggername", label=True),
            "message": self.text(fields["message"], "message"),
            "metadata": self.json_object(fields["metadata"], "metadata"),
        }

    def group(self, record: Any) -> dict[str, Any]:
        """A group record, its time parsed."""
        fields = self.mapping(
            record, ("uuid", "label", "type_string", "description", "time", "nodes")
        )
        members = fields["nodes"]
        if not isinstance(members, list):
            raise self.fail("nodes is not a list of uuids")
        label = self.text(fields["label"], "label", label=True)
        if not label:
            raise self.fail("a group label is empty")
        return {
            "uuid": self.uuid(fields["uuid"], "uuid"),
            "label": label,
            "type_string": self.text(fields["type_string"], "type_string", label=True),
            "description": self.text(fields["description"], "description"),
            "time": self.time(fields["time"], "time"),
            "nodes": [self.uuid(member, "a member") for member in members],
        }
