"""``--json`` output: the read models as plain JSON for scripts.

Keys are stable and snake_case, times are ISO 8601 in UTC, states are their lower-case values.
Nothing here styles text: scripts get the same bytes whether or not stdout is a terminal.
"""

from __future__ import annotations

import json
from typing import Any

import typer

from actors.cli.format import iso_time
from actors.cli.queries import Link, NodeDetail, NodeSummary, ProcessPage, ReportTree
from actors.daemon.requeue import FailedCheckpoint
from provenance import LinkType

JsonObject = dict[str, Any]


def emit(document: Any) -> None:
    """Write ``document`` to stdout as indented JSON, with a final newline."""
    typer.echo(json.dumps(document, indent=2, default=str, ensure_ascii=False))


def one_or_many(documents: list[Any]) -> Any:
    """One pk asked for: its object, as before; several: a list of them."""
    return documents[0] if len(documents) == 1 else documents


def process_summary(node: NodeSummary) -> JsonObject:
    """The fields of a process that every listing shows."""
    state = node.state
    return {
        "pk": node.pk,
        "uuid": node.uuid,
        "node_type": node.node_type,
        "process_label": node.process_label,
        "label": node.label,
        "state": state.value if state is not None else None,
        "paused": node.paused,
        "cached_from": node.cached_from,
        "exit_status": node.exit_status,
        "exit_message": node.exit_message,
        "ctime": iso_time(node.ctime),
        "mtime": iso_time(node.mtime),
    }


def process_list(page: ProcessPage) -> list[JsonObject]:
    """``process list --json``: one object per process, newest last."""
    return [process_summary(node) for node in page.processes]


def _data_link(link: Link) -> JsonObject:
    return {
        "label": link.label,
        "link_type": link.link_type.value,
        "pk": link.node.pk,
        "uuid": link.node.uuid,
        "node_type": link.node.node_type,
        "value": link.node.value,
    }


def process_detail(detail: NodeDetail) -> JsonObject:
    """``process show --json``."""
    node = detail.node
    callers = detail.incoming_of(LinkType.CALL)
    return {
        **process_summary(node),
        "description": detail.description,
        "inputs": [_data_link(link) for link in detail.incoming_of(LinkType.INPUT)],
        "outputs": [
            _data_link(link) for link in detail.outgoing_of(LinkType.CREATE, LinkType.RETURN)
        ],
        "caller": process_summary(callers[0].node) if callers else None,
        "called": [process_summary(link.node) for link in detail.outgoing_of(LinkType.CALL)],
        "exception": node.exception,
    }


def process_report(tree: ReportTree) -> JsonObject:
    """``process report --json``: the tree of processes, each with its log records."""
    return {
        **process_summary(tree.process),
        "logs": [
            {
                "time": iso_time(entry.time),
                "level": entry.levelname,
                "logger": entry.loggername,
                "message": entry.message,
            }
            for entry in tree.logs
        ],
        "exception": tree.process.exception,
        "called": [process_report(child) for child in tree.children],
    }


def _link(link: Link) -> JsonObject:
    return {
        "link_type": link.link_type.value,
        "label": link.label,
        "pk": link.node.pk,
        "uuid": link.node.uuid,
        "node_type": link.node.node_type,
    }


def node_summary(node: NodeSummary) -> JsonObject:
    """A node in a listing (``group show --json``)."""
    return {
        "pk": node.pk,
        "uuid": node.uuid,
        "node_type": node.node_type,
        "label": node.label,
        "value": node.value if not node.is_process else None,
        "process_label": node.process_label if node.is_process else None,
        "ctime": iso_time(node.ctime),
    }


def node_detail(detail: NodeDetail) -> JsonObject:
    """``node show --json``."""
    node = detail.node
    return {
        "pk": node.pk,
        "uuid": node.uuid,
        "node_type": node.node_type,
        "label": node.label,
        "description": detail.description,
        "ctime": iso_time(node.ctime),
        "mtime": iso_time(node.mtime),
        "attributes": dict(node.attributes),
        "incoming": [_link(link) for link in detail.incoming],
        "outgoing": [_link(link) for link in detail.outgoing],
    }


def failed_checkpoint(checkpoint: FailedCheckpoint) -> JsonObject:
    """``process requeue --list --json``: one checkpoint of ``running/failed``."""
    return {
        "pk": checkpoint.pid,
        "reason": checkpoint.reason,
        "moved": iso_time(checkpoint.moved),
        "bytes": checkpoint.size,
    }
