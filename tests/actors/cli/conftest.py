"""A workactors home with real processes in it, built once, for the CLI tests to read."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner, Result

from actors import Process, ProcessSpec, Runtime, workfunction
from actors.cli import app
from actors.daemon import stop_daemon
from provenance import Int, Node, ProcessNode, Str
from provenance.storage import sqlite_url

#: Fixed terminal width and no colour, whatever the environment running the tests says; the
#: database URL is unset so that the CLI reads the home the test names, not a server.
PLAIN_ENV: dict[str, str | None] = {
    "COLUMNS": "160",
    "NO_COLOR": "1",
    "FORCE_COLOR": None,
    "WORKACTORS_HOME": None,
    "WORKACTORS_DATABASE_URL": None,
}


@workfunction
def add(a: Int, b: Int) -> Int:
    """Add two integers."""
    return Int(a.value + b.value)


@workfunction
def double(x: Int) -> Int:
    """Twice an integer."""
    return Int(2 * x.value)


@workfunction
def add_then_double(a: Int, b: Int) -> Int:
    """Call two workfunctions, so that the provenance has CALL links."""
    result: Int = double(add(a, b))
    return result


class Child(Process):
    """Reports, then calls a workfunction."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """One integer in, its double out."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("y", valid_type=Int)

    def run(self) -> None:
        """Report the input and emit its double."""
        self.report("child got %s", self.inputs.x.value)
        self.out("y", double(self.inputs.x))


class Parent(Process):
    """Reports before and after running a ``Child``."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """One integer in, the child's result out."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("y", valid_type=Int)

    def run(self) -> None:
        """Run a child process between two report lines."""
        self.report("parent starting")
        outputs = self.runtime.run(Child, x=self.inputs.x)
        self.out("y", outputs["y"])
        self.report("parent done")


class Broken(Process):
    """Raises in ``run``, so that its node ends EXCEPTED; notes its pid first for the tests."""

    pids: ClassVar[list[int]] = []

    def run(self) -> None:
        """Fail."""
        assert self.pid is not None
        Broken.pids.append(self.pid)
        raise ValueError("broken on purpose")


@dataclass(frozen=True)
class PopulatedHome:
    """A home and the pks of what was run in it, oldest first."""

    path: Path
    add: int
    add_result: int
    parent: int
    child: int
    grandchild: int
    chain: int
    chain_children: tuple[int, ...]
    broken: int


def pk_of(node: Node) -> int:
    """The pk of a stored node (for the type checker: a stored node has one)."""
    assert node.pk is not None
    return node.pk


@pytest.fixture(scope="session")
def populated_home(tmp_path_factory: pytest.TempPathFactory) -> PopulatedHome:
    """Run an add, a parent/child pair, a workfunction chain and a broken process, then stop."""
    home = tmp_path_factory.mktemp("cli-home")
    with Runtime(home, database_url=sqlite_url(home / "provenance.sqlite")) as rt:
        result, add_node = rt.run_get_node(add, Int(2), Int(3))
        _outputs, parent_node = rt.run_get_node(Parent, x=Int(4))
        assert isinstance(parent_node, ProcessNode)
        child_node = parent_node.called[0]
        _doubled, chain_node = rt.run_get_node(add_then_double, Int(1), Int(2))
        assert isinstance(chain_node, ProcessNode)
        with pytest.raises(ValueError, match="broken on purpose"):
            rt.run(Broken)
        return PopulatedHome(
            path=home,
            add=pk_of(add_node),
            add_result=pk_of(result),
            parent=pk_of(parent_node),
            child=pk_of(child_node),
            grandchild=pk_of(child_node.called[0]),
            chain=pk_of(chain_node),
            chain_children=tuple(pk_of(node) for node in chain_node.called),
            broken=Broken.pids[-1],
        )


Cli = Callable[..., Result]


@pytest.fixture
def cli(populated_home: PopulatedHome) -> Cli:
    """Run the CLI in this process, on the populated home unless told another, in a plain
    terminal: ``cli("process", "list", env={...}, home=path)``."""

    def invoke(
        *args: str, env: dict[str, str | None] | None = None, home: Path | None = None
    ) -> Result:
        where = populated_home.path if home is None else home
        return CliRunner().invoke(
            app, ["--home", str(where), *args], env={**PLAIN_ENV, **(env or {})}
        )

    return invoke


@pytest.fixture
def daemon_home(home: Path) -> Iterator[Path]:
    """A home whose daemon, if the test starts one, is stopped after it."""
    yield home
    stop_daemon(home, timeout=60.0)


def launch_waiting(runtime: Runtime, names: list[str]) -> list[tuple[Process, Future[Any]]]:
    """Launch one ``AwaitsGated`` per gate name and return once each waits, passivated."""
    from tests.actors.events import Events
    from tests.actors.workchains import AwaitsGated

    events = Events()
    runtime.add_listener(events)
    launched = [runtime.launch(AwaitsGated, {"gate": Str(name)}) for name in names]
    for process, _done in launched:
        assert process.pid is not None
        events.wait_for(process.pid, "passivated")
    return launched


MODULE = "requeued_user_code"
SOURCE = textwrap.dedent(
    """
    from actors import WorkChain
    from provenance import Int


    class Tripled(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.input("x", valid_type=Int)
            spec.output("y", valid_type=Int)
            spec.outline(cls.triple)

        def triple(self):
            self.out("y", Int(3 * self.inputs.x.value))
    """
)


@pytest.fixture
def user_code(tmp_path: Path) -> Iterator[Path]:
    """A folder with the user's module in it, importable here and by the daemon's workers."""
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / f"{MODULE}.py").write_text(SOURCE)
    sys.path.insert(0, str(folder))
    try:
        yield folder
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(MODULE, None)
