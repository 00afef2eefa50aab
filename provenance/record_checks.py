"""The provenance actor's last check of the records it is sent, before anything is applied.

Nodes check their values when they are created; records can also be built by hand or by the
engine, and a record the database refuses must fail alone, with a message naming the node and the
field, instead of surfacing as a driver error at commit. The check is the value rule of
``provenance.values``, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from provenance.records import (
    AttributeUpdate,
    GroupAddition,
    LinkRecord,
    LogRecord,
    NodeRecord,
    WriteOp,
)
from provenance.values import (
    check_json,
    check_label,
    check_text,
    is_storable,
    label_is_storable,
    text_is_storable,
)


def check_ops(ops: Sequence[WriteOp]) -> None:
    """Check every record of one write.

    Raises:
        InvalidValueError: naming the record and the field that breaks the value rule.
        TypeError: for a field that is not of a storable type.
    """
    for op in ops:
        if not _looks_fine(op):
            _explain(op)


def _looks_fine(op: WriteOp) -> bool:
    """The fast path: no message is built for the records that are fine, nearly all of them.

    A record whose maker checked its values (``checked``: a process node's, whose attributes
    are checked as they are set) is not walked again.
    """
    kind = type(op)
    if kind is NodeRecord:
        assert isinstance(op, NodeRecord)
        return op.checked or (
            label_is_storable(op.node_type)
            and label_is_storable(op.label)
            and text_is_storable(op.description)
            and is_storable(op.attributes)
        )
    if kind is LinkRecord:
        assert isinstance(op, LinkRecord)
        return label_is_storable(op.label)
    if kind is AttributeUpdate:
        assert isinstance(op, AttributeUpdate)
        return op.checked or is_storable(op.attributes)
    if kind is LogRecord:
        assert isinstance(op, LogRecord)
        return (
            text_is_storable(op.message)
            and label_is_storable(op.loggername)
            and text_is_storable(op.levelname)
            and is_storable(op.metadata)
        )
    return False


def _explain(op: WriteOp) -> None:
    """Raise the error that says what is wrong with ``op``, if anything is."""
    match op:
        case NodeRecord(uuid=uuid, label=label, description=description, attributes=attrs):
            where = f"node {uuid}"
            check_label(op.node_type, f"the node_type of {where}")
            check_label(label, f"the label of {where}")
            check_text(description, f"the description of {where}")
            check_json(dict(attrs), f"the attributes of {where}")
        case AttributeUpdate(uuid=uuid, attributes=attrs):
            check_json(dict(attrs), f"the attribute update of node {uuid}: attributes")
        case LinkRecord(source_uuid=source, target_uuid=target, label=label):
            check_label(label, f"the label of the link {source} -> {target}")
        case LogRecord(node_pk=pk, levelname=level, loggername=name, message=message):
            if pk is None and op.node_uuid is None:
                raise TypeError("a log record names its node by pk or by uuid; it named neither")
            where = f"the log record of node {f'pk {pk}' if pk is not None else op.node_uuid}"
            check_text(level, f"the level name of {where}")
            check_label(name, f"the logger name of {where}")
            check_text(message, f"the message of {where}")
            check_json(dict(op.metadata), f"the metadata of {where}")
        case GroupAddition(label=label, type_string=type_string):
            check_label(label, "the label of a group")
            check_label(type_string, "the type_string of a group")
        case _:
            raise TypeError(f"not a provenance record: {type(op).__name__}")


def describe_error(exc: BaseException) -> str:
    """A one-line description of a failure, safe for any exception.

    The driver's own error is preferred over SQLAlchemy's wrapper, whose text repeats the
    statement and its parameters (and whose ``str`` raises for an integer too long to print).
    """
    original = getattr(exc, "orig", None)
    target = original if isinstance(original, BaseException) else exc
    try:
        text = str(target).strip().splitlines()[0] if str(target).strip() else ""
    except Exception:  # any __str__ may fail; the type name is enough then
        text = ""
    name = type(target).__name__
    return f"{name}: {text}" if text else name
