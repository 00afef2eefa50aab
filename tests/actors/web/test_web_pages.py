"""The HTML pages and the graph of a real server: what they show, how they fail, and the
daemon page with a real daemon running."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from actors import Runtime
from actors.daemon import start_daemon
from provenance import Float, Int, Str
from tests.actors.cli.conftest import add
from tests.actors.daemon.helpers import REPOSITORY, wait_for
from tests.actors.daemon.processes import Marked
from tests.actors.web.conftest import TOKEN, Serve, WebHome

TIMEOUT = 60.0


def test_the_list_page_shows_the_filtered_processes(
    client: httpx.Client, web_home: WebHome
) -> None:
    page = client.get("/?state=excepted").text
    assert f'<tr data-pk="{web_home.home.broken}">' in page
    assert f'<tr data-pk="{web_home.home.add}">' not in page
    assert '<option value="excepted" selected>' in page
    assert "1\u20131 of 1 process, newest first" in page
    assert 'data-stream="/events/processes?state=excepted"' in page


def test_the_list_page_links_its_pages(client: httpx.Client) -> None:
    page = client.get("/?per_page=2&page=2").text
    assert 'rel="prev" href="/?per_page=2"' in page
    assert 'rel="next" href="/?page=3&amp;per_page=2"' in page


def test_a_process_page_shows_links_report_and_traceback(
    client: httpx.Client, web_home: WebHome
) -> None:
    home = web_home.home
    parent = client.get(f"/processes/{home.parent}").text
    assert f'href="/processes/{home.child}"' in parent
    assert "[Parent|run] parent starting" in parent
    broken = client.get(f"/processes/{home.broken}").text
    assert '<pre class="traceback">' in broken
    assert "ValueError: broken on purpose" in broken


def test_a_data_node_asked_as_a_process_goes_to_its_node_page(
    client: httpx.Client, web_home: WebHome
) -> None:
    answer = client.get(f"/processes/{web_home.home.add_result}")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/nodes/{web_home.home.add_result}"


def test_an_unknown_page_or_pk_is_a_404_page(client: httpx.Client) -> None:
    for path in ("/processes/987654", "/nodes/987654", "/nodes/987654/graph.svg", "/nowhere"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html"), path
        assert "Not found" in answer.text


def test_the_graph_links_each_node_to_its_page(client: httpx.Client, web_home: WebHome) -> None:
    home = web_home.home
    answer = client.get(f"/nodes/{home.parent}/graph.svg?depth=1")
    assert answer.headers["content-type"].startswith("image/svg+xml")
    svg = answer.text
    assert svg.lstrip().startswith("<?xml")
    assert f'xlink:href="/processes/{home.child}"' in svg
    assert 'xlink:href="/nodes/' in svg  # its input, a data node
    assert f'xlink:href="/processes/{home.grandchild}"' not in svg  # two links away
    assert (
        f'/processes/{home.grandchild}"'
        in client.get(f"/nodes/{home.parent}/graph.svg?depth=2").text
    )


@pytest.mark.parametrize("depth", ["-1", "7", "x", "99999999999999999999"])
def test_a_bad_depth_is_a_400(client: httpx.Client, web_home: WebHome, depth: str) -> None:
    answer = client.get(f"/nodes/{web_home.home.parent}/graph.svg?depth={depth}")
    assert answer.status_code == 400
    assert "depth:" in answer.text


def test_the_daemon_page_shows_its_workers_and_their_os_pids(
    serve: Serve, daemon_home: Path
) -> None:
    with Runtime(daemon_home) as runtime:
        runtime.run(add, Int(1), Int(1))
    state = start_daemon(daemon_home, 2, cwd=os.getcwd())
    server = serve(home=daemon_home)
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        document = http.get("/api/daemon").json()
        page = http.get("/daemon").text
    assert document["running"] is True
    assert document["supervisor"]["os_pid"] == state.os_pid
    workers = document["workers"]
    assert len(workers) == 2
    assert all(worker["alive"] for worker in workers)
    assert f"supervisor OS pid <strong>{state.os_pid}</strong>" in page
    for worker in workers:
        assert f'<td class="num">{worker["os_pid"]}</td>' in page


@pytest.mark.slow
def test_a_process_a_daemon_worker_runs_is_killed_from_the_dashboard(
    serve: Serve, daemon_home: Path, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    start_daemon(daemon_home, 1, cwd=REPOSITORY)
    with Runtime(daemon_home) as runtime:
        node = runtime.submit(
            Marked, x=Int(1), marks=Str(str(marks)), steps=Int(10_000), nap=Float(0.01)
        )
    server = serve(home=daemon_home)
    headers = {"authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=server.url, timeout=TIMEOUT, headers=headers) as http:

        def held() -> bool:
            workers = http.get("/api/daemon").json()["workers"]
            return any(node.pk in worker["held"] for worker in workers)

        wait_for(held, TIMEOUT, "a worker holds the process")
        assert f'<a href="/processes/{node.pk}">{node.pk}</a>' in http.get("/daemon").text
        killed = http.post(f"/api/processes/{node.pk}/kill", json={"message": "from the web"})
        assert killed.status_code == 200, killed.text
        assert killed.json()[0]["result"] == "sent"
        wait_for(
            lambda: http.get(f"/api/processes/{node.pk}").json()["state"] == "killed",
            TIMEOUT,
            "the worker killed it",
        )
        assert http.get(f"/api/processes/{node.pk}").json()["exit_message"] == "from the web"
