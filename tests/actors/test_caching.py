"""Caching: hits reuse finished runs; changed inputs or code, failures and opt-outs run again."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from actors import (
    ExitCode,
    Process,
    ProcessSpec,
    Runtime,
    ToContext,
    WorkChain,
    WorkChainSpec,
    disable_caching,
    enable_caching,
    workfunction,
)
from actors.caching import CACHING_ENV, caching_enabled
from actors.errors import CachingSettingError
from actors.rehash import rehash
from provenance import (
    Dict,
    Float,
    Int,
    LinkType,
    List,
    ProcessNode,
    ProcessState,
    QueryBuilder,
    load_node,
)

CALLS: list[int] = []


@workfunction
def triple(x: Int) -> Int:
    """Three times x; notes that it ran."""
    CALLS.append(x.value)
    return Int(3 * x.value)


@workfunction
def passthrough(x: Int) -> Int:
    """Returns its input: a RETURN link, not a created output."""
    CALLS.append(x.value)
    return x


@workfunction
def explode(x: Int) -> Int:
    """Fails."""
    CALLS.append(x.value)
    raise ValueError("boom")


class Refuses(Process):
    """Finishes with exit status 300."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """One input, one exit code."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.exit_code(300, "ERROR_NO", "refused")

    def run(self) -> ExitCode:
        """Refuse, noting that it ran."""
        CALLS.append(self.inputs.x.value)
        return self.exit_codes.ERROR_NO


class Uncacheable(Process):
    """Opts out of caching."""

    CACHEABLE: ClassVar[bool] = False

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """One input, one output."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("y", valid_type=Dict)

    def run(self) -> None:
        """Wrap x, noting that it ran."""
        CALLS.append(self.inputs.x.value)
        self.out("y", Dict({"x": self.inputs.x.value}))


class Chain(WorkChain):
    """Submits ``triple`` through ``self.submit``: a cache hit must satisfy its barrier."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        """x in, y out."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("y", valid_type=Int)
        spec.outline(cls.launch, cls.collect)

    def launch(self) -> ToContext:
        """Submit the child."""
        return ToContext(child=self.submit(triple, self.inputs.x))

    def collect(self) -> None:
        """Forward the child's result."""
        self.out("y", self.ctx.child.get_outputs_dict()["_return"])


@pytest.fixture(autouse=True)
def _calls() -> Iterator[None]:
    CALLS.clear()
    yield
    CALLS.clear()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def rt(request: pytest.FixtureRequest) -> Runtime:
    """A runtime on each backend."""
    runtime: Runtime = request.getfixturevalue(
        "runtime" if request.param == "sqlite" else "pg_runtime"
    )
    return runtime


def test_a_hit_stores_a_finished_clone_without_running(rt: Runtime) -> None:
    first, source = triple.run_get_node(Int(4))
    with enable_caching():
        second, cached = triple.run_get_node(Int(4))
    assert CALLS == [4]
    assert second.value == first.value == 12
    assert second.uuid != first.uuid
    assert second.pk is not None
    assert cached.cached_from == source.uuid
    assert source.cached_from is None
    assert cached.process_state is ProcessState.FINISHED
    assert cached.exit_status == 0
    assert cached.node_hash == source.node_hash is not None
    assert [node.uuid for node in cached.get_inputs(LinkType.INPUT)] != []
    assert cached.get_outputs_dict(LinkType.CREATE)["_return"].uuid == second.uuid
    found = QueryBuilder().append(ProcessNode, filters={"attributes.cached_from": source.uuid})
    assert found.all(flat=True)[0].uuid == cached.uuid


def test_a_returned_output_is_linked_again_not_cloned(rt: Runtime) -> None:
    value = Int(7).store()
    passthrough(value)
    with enable_caching():
        again, node = passthrough.run_get_node(value)
    assert CALLS == [7]
    assert again.uuid == value.uuid
    assert node.get_outputs_dict(LinkType.RETURN)["_return"].uuid == value.uuid


def test_a_changed_input_misses(rt: Runtime) -> None:
    triple(Int(1))
    with enable_caching():
        _result, node = triple.run_get_node(Int(2))
    assert CALLS == [1, 2]
    assert node.cached_from is None


def test_failed_killed_and_excepted_runs_are_never_sources(rt: Runtime) -> None:
    rt.run(Refuses, x=Int(5))
    with pytest.raises(ValueError, match="boom"):
        explode(Int(6))
    with enable_caching():
        _out, refused = rt.run_get_node(Refuses, x=Int(5))
        with pytest.raises(ValueError, match="boom"):
            explode(Int(6))
    assert CALLS == [5, 6, 5, 6]
    assert isinstance(refused, ProcessNode)
    assert refused.cached_from is None


def test_a_class_that_opts_out_always_runs(rt: Runtime) -> None:
    rt.run(Uncacheable, x=Int(1))
    with enable_caching():
        rt.run(Uncacheable, x=Int(1))
    assert CALLS == [1, 1]
    assert not caching_enabled(Uncacheable, True)


def test_identifiers_runtime_setting_environment_and_disable(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = triple.process_class.class_path()
    with Runtime(home, caching=[path]) as runtime:
        triple(Int(3))
        assert runtime.run_get_node(triple, Int(3))[1].cached_from is not None
        with disable_caching(path):
            assert runtime.run_get_node(triple, Int(3))[1].cached_from is None
    assert CALLS == [3, 3]
    assert caching_enabled(triple.process_class, "tests.actors.*")
    assert not caching_enabled(triple.process_class, "elsewhere.*")
    with enable_caching("elsewhere.*"):
        assert not caching_enabled(triple.process_class)
    monkeypatch.setenv(CACHING_ENV, "all")
    assert caching_enabled(triple.process_class)
    monkeypatch.setenv(CACHING_ENV, "elsewhere.Cls, tests.actors.test_caching.*")
    assert caching_enabled(triple.process_class)
    monkeypatch.setenv(CACHING_ENV, "0")
    assert not caching_enabled(triple.process_class)


def test_a_cached_child_of_a_work_chain_satisfies_its_barrier(rt: Runtime) -> None:
    triple(Int(2))
    with enable_caching(triple.process_class.class_path()):
        outputs, chain = rt.run_get_node(Chain, x=Int(2))
    assert outputs["y"].value == 6
    assert CALLS == [2]
    assert isinstance(chain, ProcessNode)
    [child] = chain.called
    assert child.cached_from is not None


MODULE_SOURCE = """
from actors import workfunction
from provenance import Int


@workfunction
def scale(x):
    return Int(x.value * {factor})
"""


def _write_module(folder: Path, factor: str) -> Any:
    (folder / "cache_source_module.py").write_text(
        textwrap.dedent(MODULE_SOURCE.format(factor=factor))
    )
    importlib.invalidate_caches()
    if "cache_source_module" in sys.modules:
        return importlib.reload(sys.modules["cache_source_module"])
    return importlib.import_module("cache_source_module")


def test_changed_source_code_misses_and_rehash_follows_the_code(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        module = _write_module(tmp_path, "2")
        assert module.scale(Int(5)).value == 10
        with enable_caching():
            assert module.scale.run_get_node(Int(5))[1].cached_from is not None
            module = _write_module(tmp_path, "2000")
            changed, node = module.scale.run_get_node(Int(5))
        assert changed.value == 10000
        assert node.cached_from is None
        runtime.backend.sync()
        before = {n.uuid: n.node_hash for n in QueryBuilder().append(ProcessNode).all(flat=True)}
        counts = rehash(runtime.storage)
        assert (counts.processes, counts.unhashable) == (3, 0)
        after = {n.uuid: n.node_hash for n in QueryBuilder().append(ProcessNode).all(flat=True)}
        assert after == before, "a rehash describes the code that ran, not today's"
        assert len(set(after.values())) == 2
    finally:
        sys.modules.pop("cache_source_module", None)


def test_a_submission_whose_run_is_cached_is_finished_at_once_and_never_queued(
    rt: Runtime,
) -> None:
    _first, source = triple.run_get_node(Int(5))
    with enable_caching():
        node = rt.submit(triple, Int(5))
    assert node.process_state is ProcessState.FINISHED
    assert node.cached_from == source.uuid
    assert node.get_outputs_dict(LinkType.CREATE)["_return"].value == 15
    assert not rt.checkpoints.store.has_checkpoint(node.pk or 0)  # nothing for a worker
    assert CALLS == [5]


def test_a_submission_that_misses_is_hashed_so_that_a_later_one_hits(rt: Runtime) -> None:
    with enable_caching():
        queued = rt.submit(triple, Int(6))
    assert queued.process_state is ProcessState.CREATED
    with Runtime(rt.home, database_url=rt.storage.url, durable=True) as worker:
        assert worker.adopt_checkpoints() == [queued.pk]
        assert worker.wait(queued.pk or 0, 30)
    with enable_caching():
        again = rt.submit(triple, Int(6))
    assert again.cached_from == queued.uuid
    assert again.node_hash == queued.node_hash is not None
    assert CALLS == [6]


BASE_SOURCE = """
from actors import Process
from provenance import Int


class Base(Process):
    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("y", valid_type=Int)

    def run(self):
        self.out("y", Int(self.inputs.x.value * {factor}))
"""
SUB_SOURCE = """
from cache_base_module import Base


class Sub(Base):
    pass
"""


def _write_modules(folder: Path, factor: str) -> Any:
    (folder / "cache_base_module.py").write_text(textwrap.dedent(BASE_SOURCE.format(factor=factor)))
    (folder / "cache_sub_module.py").write_text(textwrap.dedent(SUB_SOURCE))
    importlib.invalidate_caches()
    for name in ("cache_base_module", "cache_sub_module"):  # as a new Python would
        sys.modules.pop(name, None)
    return importlib.import_module("cache_sub_module")


def test_a_step_changed_in_a_base_class_misses_for_its_subclass(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a user review: only the class's own source was hashed, so a subclass kept
    serving the results of its base class's old code."""
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        module = _write_modules(tmp_path, "2")
        assert runtime.run(module.Sub, x=Int(5))["y"].value == 10
        with enable_caching():
            assert runtime.run_get_node(module.Sub, x=Int(5))[1].cached_from is not None
            module = _write_modules(tmp_path, "1000")
            changed, node = runtime.run_get_node(module.Sub, x=Int(5))
        assert changed["y"].value == 5000
        assert node.cached_from is None
    finally:
        for name in ("cache_base_module", "cache_sub_module"):
            sys.modules.pop(name, None)


@workfunction
def described(value: Any) -> Any:
    """What the value is, type included: 1 and 1.0 give different answers."""
    from provenance import Str

    return Str(f"{type(value).__name__}{value.value!r}")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(lambda: List([1]), lambda: List([1.0]), id="int-then-float-in-a-list"),
        pytest.param(
            lambda: Dict({"a": 1}), lambda: Dict({"a": 1.0}), id="int-then-float-in-a-dict"
        ),
        pytest.param(lambda: Float(2.0), lambda: Int(2), id="Float-then-Int"),
    ],
)
def test_values_equal_as_numbers_but_of_other_types_never_share_a_cache_entry(
    rt: Runtime, first: Any, second: Any
) -> None:
    """Found by a user review: integral floats hashed as ints, so ``List([1.0])`` got the
    cached answer of ``List([1])``."""
    first, second = first(), second()
    described(first)
    with enable_caching():
        answer, node = described.run_get_node(second)
    assert node.cached_from is None
    assert answer.value == f"{type(second).__name__}{second.value!r}"
    assert first.node_hash != second.node_hash


def test_a_hash_computed_again_from_the_database_is_the_one_stored(rt: Runtime) -> None:
    """On PostgreSQL too: jsonb gives integral floats back as floats (``provenance.jsonb``)."""
    stored = [Dict({"x": 1e20, "l": [2.0, 2, 1e300]}).store(), List([1.0, -4.0]).store()]
    rt.backend.sync()
    counts = rehash(rt.storage)
    assert counts.unhashable == 0
    for node in stored:
        again = load_node(node.pk or 0)
        assert again.node_hash == node.node_hash


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda home: Runtime(home, caching=5), id="Runtime-caching-int"),
        pytest.param(lambda home: Runtime(home, caching=[1, 2]), id="Runtime-caching-ints"),
        pytest.param(lambda home: enable_caching(identifier=5), id="enable_caching-int"),  # type: ignore[arg-type]
        pytest.param(lambda home: disable_caching(identifier=b"x"), id="disable_caching-bytes"),  # type: ignore[arg-type]
    ],
)
def test_a_caching_setting_of_the_wrong_type_is_a_clear_error(make: Any, tmp_path: Path) -> None:
    with pytest.raises(CachingSettingError, match=r"give .*class path or .*pattern"):
        make(tmp_path / "home")
    assert not (tmp_path / "home").exists()  # refused before anything was opened
