"""Caching: a process whose run was already done is not run again.

Every launched process gets a hash (``provenance.hashing``): its class path, a hash of its
class's (or function's) source code and the hashes of its inputs. When caching is on for its
class and a process with the same hash ended FINISHED with exit status 0, the launch stores a
new process node FINISHED at once, with clones of the source's created outputs (returned
outputs are linked again, they already existed), its inputs and caller linked as usual, and
``node.cached_from`` set to the source's uuid. Killed, excepted and failed processes are never
sources; a class with ``CACHEABLE = False`` is never cached.

Caching is off by default. It is turned on, for every class (``identifier=None``) or for class
paths matching an identifier (``fnmatch`` patterns: ``mypkg.chains.*``), by:

- ``with enable_caching(identifier=...):`` (process-wide, for the block; nests);
- ``Runtime(caching=True | "pkg.Cls" | ["pkg.*", ...])``;
- ``$WORKACTORS_CACHING``: ``1``/``all``/``*``, or identifiers separated by commas.

``with disable_caching(identifier=...):`` turns it off again inside a block.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import functools
import inspect
import os
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from actors.errors import CachingSettingError
from actors.nested import leaves, link_label
from actors.process_records import launch_ops, mark_launched
from actors.reattach import CALL_KEY
from provenance import Data, Node, ProcessNode, ProcessState
from provenance.hashing import process_hash, source_hash
from provenance.log import get_logger
from provenance.records import LinkRecord, LinkType, LogRecord, WriteOp

if TYPE_CHECKING:
    import sqlalchemy as sa

    from actors.process import Process
    from actors.runtime import Runtime
    from provenance.raw_reads import SqliteSelect
    from provenance.storage import Storage

log = get_logger(__name__)

CACHING_ENV = "WORKACTORS_CACHING"
#: The process attribute holding the hash of the code that ran.
SOURCE_HASH = "source_hash"
CachingSetting = bool | str | Iterable[str] | None

#: The ``enable_caching``/``disable_caching`` blocks open now: (enabled?, identifier).
_overrides: list[tuple[bool, str | None]] = []
_lock = threading.Lock()


@contextlib.contextmanager
def _override(enabled: bool, identifier: str | None) -> Iterator[None]:
    entry = (enabled, identifier)
    with _lock:
        _overrides.append(entry)
    try:
        yield
    finally:
        with _lock:
            _overrides.remove(entry)


def enable_caching(identifier: str | None = None) -> contextlib.AbstractContextManager[None]:
    """Within the block, reuse finished runs of the classes matching ``identifier`` (a class
    path or an ``fnmatch`` pattern; None: every class). Process-wide, so that the launches of
    process steps on other threads see it too.

    Raises:
        CachingSettingError: if ``identifier`` is neither None nor a str.
    """
    return _override(True, _checked_identifier(identifier, "enable_caching"))


def disable_caching(identifier: str | None = None) -> contextlib.AbstractContextManager[None]:
    """Within the block, run the classes matching ``identifier`` (None: every class) even if
    caching is enabled for them elsewhere.

    Raises:
        CachingSettingError: if ``identifier`` is neither None nor a str.
    """
    return _override(False, _checked_identifier(identifier, "disable_caching"))


def _checked_identifier(identifier: object, where: str) -> str | None:
    if identifier is None or isinstance(identifier, str):
        return identifier
    raise CachingSettingError(
        f"{where}(identifier={identifier!r}): give a class path or an fnmatch pattern "
        "('mypkg.chains.*'), or None for every class"
    )


def check_setting(setting: object) -> CachingSetting:
    """``setting`` if it is one ``Runtime(caching=...)`` takes.

    Raises:
        CachingSettingError: naming what was given and what is taken.
    """
    if setting is None or isinstance(setting, bool | str):
        return setting
    if isinstance(setting, Iterable) and all(isinstance(item, str) for item in setting):
        return list(setting)
    raise CachingSettingError(
        f"caching={setting!r}: give True (every class), False or None (off), a class path or "
        "pattern, or a list of them"
    )


def _matches(identifier: str | None, class_path: str) -> bool:
    return identifier is None or fnmatch.fnmatchcase(class_path, identifier)


def _setting_matches(setting: CachingSetting, class_path: str) -> bool | None:
    """True/False if ``setting`` says, None if it is silent about ``class_path``."""
    if setting is None or setting is False:
        return None
    if setting is True:
        return True
    identifiers = [setting] if isinstance(setting, str) else list(setting)
    return True if any(_matches(identifier, class_path) for identifier in identifiers) else None


def _environment_setting() -> CachingSetting:
    value = os.environ.get(CACHING_ENV, "").strip()
    if not value or value.lower() in {"0", "no", "false", "off"}:
        return None
    if value.lower() in {"1", "yes", "true", "on", "all", "*"}:
        return True
    return [part.strip() for part in value.split(",") if part.strip()]


def caching_enabled(process_class: type[Process], runtime_setting: CachingSetting = None) -> bool:
    """Whether a launch of ``process_class`` may reuse a finished run (the newest open
    ``enable_caching``/``disable_caching`` block decides first, then the runtime, then the
    environment)."""
    if not getattr(process_class, "CACHEABLE", True):
        return False
    class_path = process_class.class_path()
    with _lock:
        overrides = list(_overrides)
    for enabled, identifier in reversed(overrides):
        if _matches(identifier, class_path):
            return enabled
    for setting in (runtime_setting, _environment_setting()):
        decided = _setting_matches(setting, class_path)
        if decided is not None:
            return decided
    return False


def class_source_hash(process_class: type[Process]) -> str | None:
    """The hash of the code a process of this class runs, None if its source is not available."""
    code: object = process_class  # classes hash by identity; mypy wants a Hashable
    return _source_hash(code)


#: Modules whose classes are the engine's, not the user's: their code is not hashed (an
#: upgrade of workactors does not invalidate every cache).
_ENGINE_MODULES = ("actors.", "builtins", "abc", "typing")


@functools.cache
def _source_hash(process_class: object) -> str | None:
    function = getattr(process_class, "func", None)
    if function is not None:
        code: list[Any] = [function]
    else:
        # The code a process runs is that of every user class it inherits from: a step
        # edited in a base class must change the hash of its subclasses.
        mro = getattr(process_class, "__mro__", (process_class,))
        code = [
            cls
            for cls in mro
            if not getattr(cls, "__module__", "builtins").startswith(_ENGINE_MODULES)
        ]
    try:
        return source_hash("\n".join(inspect.getsource(part) for part in code))
    except (OSError, TypeError):
        log.info("caching.no_source", process=getattr(process_class, "__qualname__", "?"))
        return None


def hash_of(
    process_class: type[Process], inputs: Mapping[str, Any], code: str | None
) -> str | None:
    """The hash of a run of ``process_class`` (whose code hashes to ``code``) on ``inputs``;
    None if one cannot be made (no source, an input that is not a data node)."""
    if code is None or not all(isinstance(value, Data) for value in inputs.values()):
        return None
    input_hashes = {name: value.node_hash for name, value in inputs.items()}
    if any(value is None for value in input_hashes.values()):
        return None
    return process_hash(
        process_class.class_path(),
        code,
        {name: value for name, value in input_hashes.items() if value is not None},
    )


@functools.cache
def _lookup() -> sa.Select[Any]:
    """The oldest FINISHED run with status 0 of a type and hash, with its created and returned
    outputs (a row per output; one row of NULL outputs if it has none): one query.

    Built once, on the first lookup: a cache lookup is on the launch path, where building a
    statement would cost more than running it; a program that never looks one up does not
    import SQLAlchemy for it.
    """
    import sqlalchemy as sa

    from provenance.models import DbLink, DbNode

    source = (
        sa.select(DbNode.id, DbNode.uuid)
        .where(
            DbNode.node_hash == sa.bindparam("node_hash"),
            DbNode.node_type == sa.bindparam("node_type"),
            DbNode.attributes["process_state"].as_string() == ProcessState.FINISHED.value,
            DbNode.attributes["exit_status"].as_integer() == 0,
        )
        .order_by(DbNode.id)
        .limit(1)
        .subquery("source")
    )
    links = DbLink.__table__.alias("link")
    output = DbNode.__table__.alias("output")
    joined = source.outerjoin(
        links,
        sa.and_(
            links.c.input_id == source.c.id,
            # Two comparisons, not ``in_``: an expanding IN is re-rendered at every execution.
            sa.or_(
                links.c.link_type == LinkType.CREATE.value,
                links.c.link_type == LinkType.RETURN.value,
            ),
        ),
    ).outerjoin(output, output.c.id == links.c.output_id)
    return (
        sa.select(
            source.c.id.label("source_id"),
            source.c.uuid.label("source_uuid"),
            links.c.link_type.label("link_type"),
            links.c.label.label("link_label"),
            *output.c,
        )
        .select_from(joined)
        .order_by(links.c.id)
    )


@dataclass(frozen=True, slots=True)
class CacheSource:
    """A finished run to reuse: its pk, uuid and outputs (link type, label, node)."""

    pk: int
    uuid: str
    outputs: list[tuple[LinkType, str, Data]]


#: The lookup of each SQLite database, run without SQLAlchemy's per-call work
#: (``provenance.raw_reads``): it runs at every launch of a cacheable process.
_SQLITE_LOOKUPS: weakref.WeakKeyDictionary[Storage, SqliteSelect] = weakref.WeakKeyDictionary()
_SQLITE_LOOKUPS_LOCK = threading.Lock()


def _sqlite_lookup(storage: Storage) -> SqliteSelect | None:
    path = storage.sqlite_path
    if path is None:
        return None
    from provenance.raw_reads import SqliteSelect  # imports SQLAlchemy: on first use

    with _SQLITE_LOOKUPS_LOCK:
        lookup = _SQLITE_LOOKUPS.get(storage)
        if lookup is None:
            lookup = _SQLITE_LOOKUPS[storage] = SqliteSelect(_lookup(), path)
            storage.on_dispose.append(lookup.close)
        return lookup


def find_source(runtime: Runtime, node_type: str, node_hash: str) -> CacheSource | None:
    """The oldest process that ended FINISHED with status 0 and has this hash, with its
    created and returned outputs; None if there is none."""
    params = {"node_hash": node_hash, "node_type": node_type}
    lookup = _sqlite_lookup(runtime.storage)
    if lookup is not None:
        rows = lookup.all(params)
    else:
        with runtime.storage.read_engine.connect() as connection:
            rows = list(connection.execute(_lookup(), params).all())
    if not rows:
        return None
    outputs = []
    for row in rows:
        if row.link_type is None:
            continue
        node = Node._from_row(row)  # a Core row, or a raw_reads row: the same fields
        if isinstance(node, Data):
            outputs.append((LinkType(row.link_type), row.link_label, node))
    return CacheSource(rows[0].source_id, rows[0].source_uuid, outputs)


class _WrittenOutputs:
    """What ``_stored_result`` reads from a finished node, given from memory: the outputs of a
    cache hit were just written, reading them back would only cost a query."""

    def __init__(self, outputs: dict[str, Data]) -> None:
        self._outputs = outputs

    def get_outputs_dict(self, link_type: LinkType | None = None) -> dict[str, Data]:
        """The outputs by label."""
        return dict(self._outputs)


def launch_cached(
    runtime: Runtime, process: Process, caller: Process | None, key: str | None
) -> tuple[Process, Future[Any]] | None:
    """Give the process its hash; if caching is on for it and a source exists, store it as a
    clone of the source and return it with its result, else None (the launch goes on)."""
    process_class = type(process)
    node = process.node
    code = class_source_hash(process_class)
    if code is not None:
        # Kept with the run: a rehash then describes the code that ran, not today's.
        node.set_process_attributes(**{SOURCE_HASH: code})
    # By link label, as the inputs are stored (a namespaced input is one label, ``a__b``).
    inputs = {link_label(path): value for path, value in leaves(process._inputs)}
    node._node_hash = hash_of(process_class, inputs, code)
    if node._node_hash is None or not caching_enabled(process_class, runtime.caching):
        return None
    source = find_source(runtime, node.node_type, node._node_hash)
    if source is None:
        return None
    node.set_process_attributes(
        process_state=ProcessState.FINISHED.value, exit_status=0, cached_from=source.uuid
    )
    if key is not None:
        node.set_process_attributes(**{CALL_KEY: key})
    ops: list[WriteOp] = launch_ops(process, caller.node.uuid if caller is not None else None)
    written = _output_ops(source.outputs, node.uuid, ops)
    # The log line goes in the same write (naming the new node by uuid): one write the caller
    # makes on its own thread, no message left behind for the provenance actor's.
    ops.append(
        LogRecord(
            node_pk=None,
            node_uuid=node.uuid,
            levelname="INFO",
            loggername="actors.caching",
            message=f"[{process_class.process_label()}] reused the results of process "
            f"{source.pk} ({source.uuid}) from the cache",
            time=dt.datetime.now(dt.UTC),
        )
    )
    pks = runtime.backend.write(ops)
    mark_launched(process, pks)
    for output in written.values():
        if not output.is_stored:
            output._mark_stored(pks)
    assert node.pk is not None
    log.info("caching.hit", pid=node.pk, source=source.pk, process=process_class.class_path())
    done: Future[Any] = Future()
    done.set_result(process_class._stored_result(cast(ProcessNode, _WrittenOutputs(written))))
    return process, done


def _output_ops(
    outputs: list[tuple[LinkType, str, Data]], target_uuid: str, ops: list[WriteOp]
) -> dict[str, Data]:
    """Append the source's outputs to ``ops`` for ``target_uuid``: created ones cloned,
    returned ones linked again. Returns the outputs of the new node by label."""
    written: dict[str, Data] = {}
    for link_type, label, output in outputs:
        target = output
        if link_type is LinkType.CREATE:
            target = output.clone()
            ops.extend(target._records_to_store())
        ops.append(LinkRecord(target_uuid, target.uuid, link_type, label))
        written[label] = target
    return written
