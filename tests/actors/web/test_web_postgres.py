"""The dashboard on a PostgreSQL database: lists, pages, graphs and live updates."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from actors import Runtime
from actors.test_utils import DummyProcess
from persistence.postgres_store import PostgresStore
from provenance import Int
from tests.actors.cli.conftest import Parent, add
from tests.actors.web.conftest import Serve
from tests.actors.web.events import sse_events
from tests.actors.web.test_web_browser import chromium_path

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


def test_the_daemon_page_shows_the_shared_database_queue_and_every_machines_workers(
    serve: Serve, shared_database: str, tmp_path: Path, shots: Path
) -> None:
    """Issue 11: with checkpoints in the database, the home's running/ folder is empty; the
    daemon page reads the waiting rows and the workers of every machine from the database."""
    key = secrets.token_bytes(32)
    other_machine = PostgresStore(shared_database, key, worker=("elsewhere", 4242, "/far/home"))
    try:
        with Runtime(tmp_path / "submitter", database_url=shared_database) as runtime:
            pid = runtime.queue_up(DummyProcess, {})
            server = serve(home=runtime.home, database_url=shared_database)
            with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
                document = http.get("/api/daemon").json()
                page = http.get("/daemon").text
            _look_at_the_daemon_page(server.url, shots, "elsewhere")
    finally:
        other_machine.close()
    assert document["unheld_checkpoints"] == [pid]
    [worker] = document["shared_database_workers"]
    assert (worker["host"], worker["os_pid"], worker["home"]) == ("elsewhere", 4242, "/far/home")
    assert "Workers on the shared database, every machine" in page
    assert "elsewhere" in page
    assert f'href="/processes/{pid}"' in page


def _look_at_the_daemon_page(base: str, shots: Path, host: str) -> None:
    """The page in a real browser: the workers' table is shown, and a screenshot is kept."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path())
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base.rstrip("/") + "/daemon")
            heading = page.get_by_role("heading", name="Workers on the shared database")
            expect(heading).to_be_visible()
            expect(page.locator("td", has_text=host)).to_be_visible()
            page.screenshot(path=shots / "daemon-shared-database.png", full_page=True)
        finally:
            browser.close()
