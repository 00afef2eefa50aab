"""A home with real processes in it, a dashboard serving it on a free port, and HTTP clients.

The server is the real one (uvicorn on a socket) in a thread of the test process, on a Runtime
of its own or on the test's, so that processes the test runs live are the ones it controls.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from actors import Process, ProcessSpec, Runtime
from actors.web import BackgroundServer, WebSettings
from provenance import Str
from provenance.models import DbNode
from tests.actors.cli.conftest import PopulatedHome, cli, daemon_home, pk_of, populated_home

# Fixtures of the CLI tests, reused: the CLI runner, their populated home (add, parent/child,
# chain, broken) and a home whose daemon is stopped after the test.
__all__ = ["cli", "daemon_home", "populated_home"]

TOKEN = "a-test-token-of-enough-length"
HOSTILE = "<script>alert('x')</script>"
TIMEOUT = 60.0


class Hostile(Process):
    """Reports, takes and labels markup, so that pages must show it as text."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """A string in, the same string out."""
        super().define(spec)
        spec.input("text", valid_type=Str)
        spec.output("text", valid_type=Str)

    def run(self) -> None:
        """Report the text and give it back."""
        self.report("got %s", self.inputs.text.value)
        self.out("text", Str(self.inputs.text.value))


@dataclass(frozen=True)
class WebHome:
    """The populated home, plus a process whose label, input and report are markup."""

    home: PopulatedHome
    hostile: int

    @property
    def path(self) -> Path:
        return self.home.path


@pytest.fixture(scope="session")
def web_home(populated_home: PopulatedHome) -> WebHome:
    """The CLI tests' home with a ``Hostile`` process added, its node labelled with markup."""
    with Runtime(populated_home.path) as rt:
        _out, node = rt.run_get_node(Hostile, text=Str(HOSTILE, label=HOSTILE))
        with rt.storage.write_session() as session, session.begin():
            session.execute(sa.update(DbNode).where(DbNode.id == pk_of(node)).values(label=HOSTILE))
    return WebHome(populated_home, pk_of(node))


Serve = Callable[..., BackgroundServer]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start dashboards for the test, each on a free port; all are stopped after it:
    ``serve(home=path)`` or ``serve(runtime=rt)``."""
    started: list[BackgroundServer] = []

    def start(
        home: Path | None = None,
        runtime: Runtime | None = None,
        database_url: str | None = None,
        **settings: object,
    ) -> BackgroundServer:
        chosen = WebSettings(
            port=0,
            token=TOKEN,
            home=home if runtime is None else runtime.home,
            database_url=database_url,
            **settings,  # type: ignore[arg-type]
        )
        server = BackgroundServer(chosen, runtime)
        started.append(server.__enter__())
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def server(serve: Serve, web_home: WebHome) -> BackgroundServer:
    """A dashboard on the populated home, on its own Runtime."""
    return serve(home=web_home.path)


@pytest.fixture
def client(server: BackgroundServer) -> Iterator[httpx.Client]:
    """An HTTP client of ``server``, without the token."""
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        yield http


@pytest.fixture
def writer(server: BackgroundServer) -> Iterator[httpx.Client]:
    """An HTTP client of ``server`` that sends the token as a script would."""
    headers = {"authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=server.url, timeout=TIMEOUT, headers=headers) as http:
        yield http


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: ``$WORKACTORS_ARTIFACTS/web`` (kept by CI), else the test's tmp."""
    base = os.environ.get("WORKACTORS_ARTIFACTS")
    folder = Path(base) / "web" if base else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
