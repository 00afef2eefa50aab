"""The dashboard on a PostgreSQL database: lists, pages, graphs and live updates."""

from __future__ import annotations

import httpx
import pytest

from actors import Runtime
from provenance import Int
from tests.actors.cli.conftest import Parent, add
from tests.actors.web.conftest import Serve
from tests.actors.web.events import sse_events

pytestmark = pytest.mark.postgres

TIMEOUT = 60.0


def test_the_dashboard_reads_and_follows_a_postgresql_database(
    serve: Serve, pg_runtime: Runtime, postgres_url: str
) -> None:
    _out, parent = pg_runtime.run_get_node(Parent, x=Int(4))
    server = serve(home=pg_runtime.home, database_url=postgres_url)
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        listed = http.get("/api/processes?class=parent").json()
        assert [process["pk"] for process in listed["processes"]] == [parent.pk]
        assert http.get("/api/processes?state=finished").json()["total"] == 3
        document = http.get(f"/api/processes/{parent.pk}").json()
        assert document["report"]["logs"][0]["message"] == "[Parent|run] parent starting"
        assert "parent starting" in http.get(f"/processes/{parent.pk}").text
        assert "<svg" in http.get(f"/nodes/{parent.pk}").text
        assert http.get("/api/processes/987654").status_code == 404
        assert http.get("/api/processes?label=a%00b").status_code == 400
        assert http.get("/api/processes?exit_status=" + "9" * 25).status_code == 400

        with http.stream("GET", "/events/processes?class=add") as answer:
            events = sse_events(answer)
            _event, first = next(events)
            assert "No process matches." in first
            _result, node = pg_runtime.run_get_node(add, Int(1), Int(2))
            _event, second = next(events)
            assert f'href="/processes/{node.pk}"' in second
