"""Archives: share and back up provenance as one versioned zip file (see ``format``).

``create_archive(path, nodes=[pk, uuid, node, ...], groups=[label, ...])`` writes one,
``import_archive(path)`` adds it to a database (by uuid, all or nothing), ``inspect_archive(path)``
checks it and says what is in it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance.archive.export import ArchiveCounts, create_archive
from provenance.archive.format import FORMAT_VERSION, is_process_type, trusted_hash
from provenance.archive.importer import import_archive
from provenance.archive.reader import read_archive


@dataclass(frozen=True, slots=True)
class ArchiveInfo:
    """What ``inspect_archive`` reports."""

    path: Path
    version: int
    created: str
    workactors: str
    counts: ArchiveCounts
    node_types: dict[str, int]
    groups: list[str]
    #: Data nodes whose ``hash`` is not their content's (edited, or forged): an import ignores
    #: it and hashes the content.
    mismatched_hashes: list[str]

    def as_json(self) -> dict[str, Any]:
        """Plain JSON for ``archive inspect --json``."""
        return {
            "path": str(self.path),
            "version": self.version,
            "created": self.created,
            "workactors": self.workactors,
            "counts": {
                "nodes": self.counts.nodes,
                "links": self.counts.links,
                "logs": self.counts.logs,
                "groups": self.counts.groups,
            },
            "node_types": self.node_types,
            "groups": self.groups,
            "mismatched_hashes": self.mismatched_hashes,
        }


def inspect_archive(path: str | Path) -> ArchiveInfo:
    """Read and check the whole archive at ``path``; say what it holds.

    Raises:
        ArchiveError: for a damaged or invalid archive.
    """
    content = read_archive(path)
    metadata = content.metadata
    return ArchiveInfo(
        path=content.path,
        version=int(metadata["version"]),
        created=str(metadata.get("created", "")),
        workactors=str(metadata.get("workactors", "")),
        counts=ArchiveCounts(
            nodes=len(content.nodes),
            links=len(content.links),
            logs=len(content.logs),
            groups=len(content.groups),
        ),
        node_types=dict(sorted(Counter(node["node_type"] for node in content.nodes).items())),
        groups=[group["label"] for group in content.groups],
        mismatched_hashes=[
            node["uuid"]
            for node in content.nodes
            if node["node_hash"] is not None
            and not is_process_type(node["node_type"])
            and node["node_hash"] != trusted_hash(node)
        ],
    )


__all__ = [
    "FORMAT_VERSION",
    "ArchiveCounts",
    "ArchiveInfo",
    "create_archive",
    "import_archive",
    "inspect_archive",
]
