"""Reading an archive without trusting it: a zip is opened, never extracted.

Every member is read into memory through a bounded reader, so that a zip bomb (a small file that
inflates to gigabytes, or a header that lies about the size) stops at the limit instead of
filling memory; member names that could escape a folder (``../x``, ``/etc/x``, ``C:\\x``) or that
the format does not define are refused; each member's SHA-256 must match the metadata, which
catches a truncated or edited file. Everything is checked before the importer writes anything.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from provenance.archive.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    GROUPS,
    LINKS,
    LOGS,
    MEMBERS,
    METADATA,
    NODES,
    RECORD_MEMBERS,
    RecordChecker,
)
from provenance.errors import ArchiveError

#: The most an archive may inflate to, all members together (and a member alone).
MAX_INFLATED_BYTES = 4 * 2**30
#: The highest compression ratio believed for a member of more than a mebibyte: JSON lines
#: compress about 10:1; a bomb, by thousands.
MAX_RATIO = 200
_READ_CHUNK = 2**20


@dataclass(slots=True)
class ArchiveContent:
    """An archive read and checked: its metadata and its records, times parsed."""

    path: Path
    metadata: dict[str, Any]
    nodes: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        "\\" not in name
        and not path.is_absolute()
        and ".." not in path.parts
        and ":" not in name
        and len(path.parts) == 1
    )


def _check_members(archive: zipfile.ZipFile, where: Path) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    for info in infos:
        if not _safe_name(info.filename):
            raise ArchiveError(
                f"{where}: the member {info.filename!r} has a path that would escape the "
                "archive's folder; refusing the archive"
            )
    names = [info.filename for info in infos]
    if sorted(names) != sorted(MEMBERS):
        unexpected = sorted(set(names) - set(MEMBERS))
        missing = sorted(set(MEMBERS) - set(names))
        raise ArchiveError(
            f"{where} is not a workactors archive: "
            + "; ".join(
                part
                for part in (
                    f"unexpected members {unexpected}" if unexpected else "",
                    f"missing members {missing}" if missing else "",
                    "a member appears twice" if len(names) != len(set(names)) else "",
                )
                if part
            )
        )
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 2**20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ArchiveError(
                f"{where}: the member {info.filename} would inflate {info.compress_size} bytes "
                f"to {info.file_size} (more than {MAX_RATIO} times): refusing a zip bomb"
            )
    if total > MAX_INFLATED_BYTES:
        raise ArchiveError(
            f"{where} would inflate to {total} bytes, more than the {MAX_INFLATED_BYTES} "
            "workactors reads; split the export"
        )
    return {info.filename: info for info in infos}


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: Path) -> bytes:
    """The member's bytes, never more than its declared size (a lying header is a bomb)."""
    chunks: list[bytes] = []
    size = 0
    with archive.open(info) as stream:
        while chunk := stream.read(_READ_CHUNK):
            size += len(chunk)
            if size > info.file_size:
                raise ArchiveError(
                    f"{where}: the member {info.filename} inflates beyond its declared "
                    f"{info.file_size} bytes: refusing a zip bomb"
                )
            chunks.append(chunk)
    return b"".join(chunks)


def _lines(data: bytes, checker: RecordChecker) -> Iterator[Any]:
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        checker.line = number
        try:
            yield json.loads(line)
        except ValueError as exc:
            raise checker.fail(f"not JSON ({exc})") from None


def _check_metadata(data: bytes, where: Path) -> dict[str, Any]:
    try:
        metadata = json.loads(data)
    except ValueError as exc:
        raise ArchiveError(f"{where}: {METADATA} is not JSON ({exc})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise ArchiveError(f"{where} is not a workactors archive ({METADATA} names no such format)")
    version = metadata.get("version")
    if version != FORMAT_VERSION:
        raise ArchiveError(
            f"{where} is a workactors archive of format version {version!r}; this workactors "
            f"reads version {FORMAT_VERSION} (a newer workactors wrote it? upgrade workactors)"
        )
    digests = metadata.get("sha256")
    if not isinstance(digests, dict) or set(digests) != set(RECORD_MEMBERS):
        raise ArchiveError(f"{where}: {METADATA} lacks the digest of every member")
    return metadata


def read_archive(path: str | Path, *, records: bool = True) -> ArchiveContent:
    """Open, check and (with ``records``) parse every record of the archive at ``path``.

    Raises:
        ArchiveError: for anything that is not a valid, complete archive of a known version,
            naming the member and line.
        FileNotFoundError: if there is no file at ``path``.
    """
    where = Path(path)
    if not where.is_file():
        raise FileNotFoundError(f"no archive at {where}")
    try:
        with zipfile.ZipFile(where) as archive:
            infos = _check_members(archive, where)
            metadata = _check_metadata(_read_member(archive, infos[METADATA], where), where)
            content = ArchiveContent(where, metadata)
            if not records:
                return content
            for name in RECORD_MEMBERS:
                data = _read_member(archive, infos[name], where)
                if hashlib.sha256(data).hexdigest() != metadata["sha256"][name]:
                    raise ArchiveError(
                        f"{where}: the member {name} does not match its digest (truncated or "
                        "edited); the archive is damaged"
                    )
                _parse(content, name, data)
    except zipfile.BadZipFile as exc:
        raise ArchiveError(
            f"{where} is not a readable zip archive ({exc}): truncated or not an archive"
        ) from None
    except (zipfile.LargeZipFile, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ArchiveError(f"{where} cannot be read ({exc}): truncated or damaged") from None
    _check_closed(content)
    return content


def _parse(content: ArchiveContent, name: str, data: bytes) -> None:
    checker = RecordChecker(name)
    parse, target = {
        NODES: (checker.node, content.nodes),
        LINKS: (checker.link, content.links),
        LOGS: (checker.log, content.logs),
        GROUPS: (checker.group, content.groups),
    }[name]
    target.extend(parse(record) for record in _lines(data, checker))


def _check_closed(content: ArchiveContent) -> None:
    """Every uuid a link, log or group names is a node of the archive, each node once."""
    uuids = [node["uuid"] for node in content.nodes]
    known = set(uuids)
    if len(known) != len(uuids):
        raise ArchiveError(f"{content.path}: a node uuid appears twice in {NODES}")
    for name, records, keys in (
        (LINKS, content.links, ("input", "output")),
        (LOGS, content.logs, ("node",)),
    ):
        for number, record in enumerate(records, start=1):
            for key in keys:
                if record[key] not in known:
                    raise ArchiveError(
                        f"{content.path}: {name} record {number} links to node {record[key]}, "
                        "which is not in the archive (a dangling link); the archive is invalid"
                    )
    for group in content.groups:
        for member in group["nodes"]:
            if member not in known:
                raise ArchiveError(
                    f"{content.path}: group {group['label']!r} holds node {member}, which is "
                    "not in the archive; the archive is invalid"
                )
