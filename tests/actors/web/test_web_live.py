"""Live updates: a stream sends the list again when a process is added or changes, and costs
the database nothing while nothing changes."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa

from actors import Runtime
from actors.web.state import WebState
from provenance import Int, Str
from tests.actors.cli.conftest import add
from tests.actors.daemon.helpers import wait_for
from tests.actors.events import Events
from tests.actors.web.conftest import Serve
from tests.actors.web.events import sse_events
from tests.actors.workchains import AwaitsGated, gate

TIMEOUT = 60.0


def test_the_list_stream_sends_a_new_process_and_nothing_while_idle(
    serve: Serve, tmp_path: Path
) -> None:
    with Runtime(tmp_path / "home") as runtime:
        runtime.run(add, Int(1), Int(1))
        server = serve(runtime=runtime)
        state: WebState = server.app.state.web
        queries: list[str] = []
        sa.event.listen(
            runtime.storage.read_engine,
            "before_cursor_execute",
            lambda *args: queries.append(args[2]),
        )
        with (
            httpx.Client(base_url=server.url, timeout=TIMEOUT) as http,
            http.stream("GET", "/events/processes?class=add") as answer,
        ):
            assert answer.headers["content-type"].startswith("text/event-stream")
            events = sse_events(answer)
            event, first = next(events)
            assert event == "table"
            assert "1\u20131 of 1 process," in first
            after_first = len(queries)
            looks = state.watcher.looks
            wait_for(lambda: state.watcher.looks >= looks + 8, TIMEOUT, "eight idle looks")
            assert len(queries) == after_first, "an idle stream read the database"

            _result, node = runtime.run_get_node(add, Int(2), Int(40))
            event, second = next(events)
            assert event == "table"
            assert f'href="/processes/{node.pk}"' in second
            assert "1\u20132 of 2 processes," in second


def test_the_process_stream_follows_one_process(serve: Serve, tmp_path: Path) -> None:
    with Runtime(tmp_path / "home") as runtime:
        _result, node = runtime.run_get_node(add, Int(1), Int(2))
        server = serve(runtime=runtime)
        with (
            httpx.Client(base_url=server.url, timeout=TIMEOUT) as http,
            http.stream("GET", f"/events/processes/{node.pk}") as answer,
        ):
            event, body = next(sse_events(answer))
        assert event == "body"
        assert 'data-terminal="true"' in body
        assert "finished" in body


def test_a_stream_of_an_unknown_process_is_a_404(serve: Serve, tmp_path: Path) -> None:
    with Runtime(tmp_path / "home") as runtime:
        server = serve(runtime=runtime)
        answer = httpx.get(f"{server.url}events/processes/424242", timeout=TIMEOUT)
    assert answer.status_code == 404
    assert "no node with pk 424242" in answer.json()["error"]


def test_the_process_stream_follows_a_running_work_chain_to_its_end(
    serve: Serve, tmp_path: Path
) -> None:
    name = f"live-gate-{uuid.uuid4().hex[:8]}"
    with Runtime(tmp_path / "home") as runtime:
        events = Events()
        runtime.add_listener(events)
        process, done = runtime.launch(AwaitsGated, {"gate": Str(name)})
        assert process.pid is not None
        events.wait_for(process.pid, "passivated")
        server = serve(runtime=runtime)
        try:
            with (
                httpx.Client(base_url=server.url, timeout=TIMEOUT) as http,
                http.stream("GET", f"/events/processes/{process.pid}") as answer,
            ):
                stream = sse_events(answer)
                _event, first = next(stream)
                assert 'data-terminal="false"' in first
                assert "Gated&lt;" in first  # the child in the live call tree
                gate(name).set()
                body = first
                while 'data-terminal="true"' not in body:
                    _event, body = next(stream)
        finally:
            gate(name).set()
        assert done.result(timeout=TIMEOUT)["value"].value == 7
    assert 'id="state">finished' in body
