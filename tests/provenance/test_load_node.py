"""``load_node`` by pk, uuid or uuid prefix, with or without a runtime open."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa

from actors import Runtime, ToContext, WorkChain, WorkChainSpec
from actors.runtimes import open_runtime
from actors.test_utils import DummyProcess
from provenance import (
    AmbiguousIdentifierError,
    Int,
    NotExistentError,
    ProcessNode,
    QueryBuilder,
    load_node,
)
from provenance.models import DbNode
from provenance.reading import close_readers
from tests.actors.workchains import Double


@pytest.fixture(autouse=True)
def _close_readers() -> Iterator[None]:
    yield
    close_readers()


def _stored_in(home: Path, *values: int) -> list[Int]:
    with Runtime(home) as rt:
        nodes = [Int(value).store() for value in values]
        assert rt.storage is not None
    return nodes


def test_a_node_is_found_by_pk_uuid_prefix_and_digits(runtime: Runtime) -> None:
    node = Int(7).store()
    assert node.pk is not None
    for identifier in (node.pk, str(node.pk), node.uuid, node.uuid[:8], node.uuid.upper()[:13]):
        assert load_node(identifier).uuid == node.uuid


def test_a_uuid_prefix_of_digits_only_finds_its_node_unless_a_pk_has_that_number(
    runtime: Runtime,
) -> None:
    """One uuid in ~400 starts with eight decimal digits: ``process list`` shows such a
    prefix, and typing it back must find the node (a pk of that number wins)."""
    digits = "44720950-0000-4000-8000-000000000001"
    node, other = Int(1).store(), Int(2).store()
    starts_with_node_pk = f"{node.pk:0<8}-0000-4000-8000-000000000002"
    runtime.backend.sync()
    with runtime.storage.write_engine.begin() as connection:
        connection.execute(sa.update(DbNode).where(DbNode.id == node.pk).values(uuid=digits))
        connection.execute(
            sa.update(DbNode).where(DbNode.id == other.pk).values(uuid=starts_with_node_pk)
        )
    assert load_node("44720950").pk == node.pk
    assert load_node("4472").pk == node.pk
    assert load_node(str(node.pk)).pk == node.pk  # the pk wins over the uuid starting alike
    with pytest.raises(NotExistentError, match="no node with pk 44720951 nor a uuid starting"):
        load_node("44720951")
    with pytest.raises(NotExistentError, match="no node with pk 44720950 in"):
        load_node(44720950)  # an int is a pk, never a uuid


def test_an_ambiguous_prefix_lists_the_candidates(runtime: Runtime) -> None:
    twins = ("abcd0000-0000-4000-8000-000000000001", "abcd1111-0000-4000-8000-000000000002")
    nodes = [Int(1).store(), Int(2).store()]
    runtime.backend.sync()
    with runtime.storage.write_engine.begin() as connection:
        for twin, node in zip(twins, nodes, strict=True):
            connection.execute(sa.update(DbNode).where(DbNode.id == node.pk).values(uuid=twin))
    with pytest.raises(AmbiguousIdentifierError, match="matches several nodes") as raised:
        load_node("abcd")
    for twin, node in zip(twins, nodes, strict=True):
        assert f"{twin} (pk {node.pk}, data.int)" in str(raised.value)
    assert "give more characters" in str(raised.value)
    assert load_node("abcd1").pk == nodes[1].pk


@pytest.mark.parametrize(
    ("identifier", "error", "message"),
    [
        ("ffffffff-ffff", NotExistentError, "no node with uuid prefix 'ffffffff-ffff'"),
        ("00000000-0000-4000-8000-000000000000", NotExistentError, "no node with uuid '0000"),
        (424242, NotExistentError, "no node with pk 424242"),
        ("xyz", ValueError, "neither a pk"),
        (2.5, TypeError, "takes a pk"),
        (True, TypeError, "takes a pk"),
    ],
)
def test_bad_identifiers_are_clear_errors(
    runtime: Runtime, identifier: object, error: type[Exception], message: str
) -> None:
    Int(1).store()
    with pytest.raises(error, match=message):
        load_node(identifier)  # type: ignore[arg-type]


def test_load_node_reads_the_default_home_without_a_runtime(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [node] = _stored_in(home, 41)
    monkeypatch.setenv("WORKACTORS_HOME", str(home))
    assert open_runtime() is None
    loaded = load_node(node.uuid[:10])
    assert isinstance(loaded, Int)
    assert loaded.value == 41
    assert QueryBuilder().append(Int, filters={"attributes.value": 41}).count() == 1
    assert open_runtime() is None, "reading must not start a runtime"


def test_load_node_without_a_database_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKACTORS_HOME", str(tmp_path / "empty"))
    with pytest.raises(NotExistentError, match="there is no workactors database at"):
        load_node(1)
    assert not (tmp_path / "empty").exists()


def test_a_fresh_interpreter_loads_a_node_importing_provenance_only(home: Path) -> None:
    [node] = _stored_in(home, 42)
    script = (
        "import sys\n"
        "from provenance import load_node\n"
        f"print(load_node({node.uuid[:8]!r}).value)\n"
        "assert 'actors' not in sys.modules\n"
    )
    env = {**os.environ, "WORKACTORS_HOME": str(home)}
    env.pop("WORKACTORS_DATABASE_URL", None)
    completed = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "42"


class LoadsItsChild(WorkChain):
    """Submits a child, then queries it and loads it by pk in the same step: read-your-writes."""

    loaded: ClassVar[list[ProcessNode]] = []
    queried: ClassVar[list[ProcessNode]] = []

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        """Two steps."""
        super().define(spec)
        spec.outline(cls.launch, cls.check)

    def launch(self) -> ToContext:
        """Submit and read back at once."""
        child = self.submit(DummyProcess)
        assert child.pk is not None
        queried = QueryBuilder().append(ProcessNode, filters={"id": child.pk}).all(flat=True)
        LoadsItsChild.queried.extend(queried)
        found = load_node(child.pk)
        assert isinstance(found, ProcessNode)
        LoadsItsChild.loaded.append(found)
        return ToContext(child=child)

    def check(self) -> None:
        """Nothing to do."""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_step_loads_the_child_it_just_submitted(
    request: pytest.FixtureRequest, backend: str
) -> None:
    rt: Runtime = request.getfixturevalue("runtime" if backend == "sqlite" else "pg_runtime")
    LoadsItsChild.loaded.clear()
    LoadsItsChild.queried.clear()
    _result, node = rt.run_get_node(LoadsItsChild)
    assert isinstance(node, ProcessNode)
    [loaded] = LoadsItsChild.loaded
    assert [called.uuid for called in node.called] == [loaded.uuid]
    assert [queried.uuid for queried in LoadsItsChild.queried] == [loaded.uuid]


def test_a_node_is_read_again_in_its_own_database_after_its_runtime_closed(
    tmp_path: Path,
) -> None:
    """Found by using it: a process node kept from a runtime on one home read its state, once
    that runtime closed, from the default home (``$WORKACTORS_HOME``), where the same pk is
    another node: CREATED read as None, and its inputs were another database's."""
    others = [100, 200, 300, 400, 500]
    _stored_in(Path(os.environ["WORKACTORS_HOME"]), *others)  # pks 1-5 there
    with Runtime(tmp_path / "mine") as runtime:
        node = runtime.submit(DummyProcess)  # stored CREATED: its state is read again
        assert node.pk is not None
        value = Int(7).store()
        _result, ran = runtime.run_get_node(Double, x=Int(2))
    assert node.pk <= 5  # the default home has a node of each pk
    assert ran.pk is not None
    assert ran.pk <= 5

    assert node.process_state is not None
    assert node.process_state.value == "created"
    again = load_node(value.pk or 0)  # no runtime open: the default home, as documented
    assert isinstance(again, Int)
    assert again.value in others
    assert ran.get_inputs_dict()["x"].value == 2  # read in its own database
    assert ran.get_outputs_dict()["y"].value == 4


def test_a_node_read_in_a_database_remembers_it_and_a_pickled_one_forgets_it(
    tmp_path: Path,
) -> None:
    import pickle

    [stored] = _stored_in(tmp_path / "mine", 5)
    with Runtime(tmp_path / "mine") as runtime:
        loaded = load_node(stored.pk or 0)
        assert loaded._database == runtime.storage.url == stored._database
    assert pickle.loads(pickle.dumps(loaded))._database is None
