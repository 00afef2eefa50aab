"""The JSON API of a real dashboard server over a real SQLite home: lists with every filter,
one process, one node, the daemon, errors, and the OpenAPI description."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from actors.web import listing
from actors.web.app import ROUTES
from actors.web.openapi import SCHEMA
from tests.actors.web.conftest import HOSTILE, WebHome


def pks_of(client: httpx.Client, query: str) -> list[int]:
    answer = client.get(f"/api/processes?{query}")
    assert answer.status_code == 200, answer.text
    return [process["pk"] for process in answer.json()["processes"]]


def test_the_list_is_newest_first_and_counts_every_match(
    client: httpx.Client, web_home: WebHome
) -> None:
    answer = client.get("/api/processes").json()
    pks = [process["pk"] for process in answer["processes"]]
    assert pks == sorted(pks, reverse=True)
    home = web_home.home
    expected = {home.add, home.parent, home.child, home.grandchild, home.chain, home.broken}
    assert expected | set(home.chain_children) | {web_home.hostile} <= set(pks)
    assert answer["total"] == len(pks)
    assert (answer["page"], answer["per_page"], answer["pages"]) == (1, 50, 1)


def test_each_filter_selects_what_it_names(client: httpx.Client, web_home: WebHome) -> None:
    home = web_home.home
    assert pks_of(client, "state=excepted") == [home.broken]
    assert pks_of(client, "state=EXCEPTED") == [home.broken]
    assert set(pks_of(client, "class=ADD")) == {home.add, home.chain, home.chain_children[0]}
    assert pks_of(client, "class=parent") == [home.parent]
    assert pks_of(client, "label=<script>") == [web_home.hostile]
    assert pks_of(client, "label=100%25") == []  # LIKE wildcards are taken literally
    assert home.broken not in pks_of(client, "exit_status=0")
    assert home.add in pks_of(client, "exit_status=0")
    assert pks_of(client, "exit_status=failed") == []
    assert pks_of(client, "since=1d") == pks_of(client, "")
    assert pks_of(client, "until=1d") == []
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert client.get("/api/processes", params={"since": future}).json()["processes"] == []
    # A "+" typed into an address arrives as a space: the offset is still understood.
    assert pks_of(client, "since=" + future.replace("+", " ")) == []
    assert pks_of(client, "state=finished&class=double") == sorted(
        [home.grandchild, home.chain_children[1], home.chain], reverse=True
    )


def test_pages_split_the_list_without_gaps(client: httpx.Client) -> None:
    everything = pks_of(client, "")
    pages = [pks_of(client, f"per_page=3&page={page}") for page in (1, 2, 3, 4)]
    assert [pk for page in pages for pk in page] == everything
    assert client.get("/api/processes?per_page=3").json()["pages"] == -(-len(everything) // 3)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("state=sleeping", "state: 'sleeping' is not a process state"),
        ("exit_status=bad", "exit_status: 'bad' is neither an integer nor 'failed'"),
        ("exit_status=" + "9" * 30, "does not fit in 64 bits"),
        ("since=yesterday", "since: 'yesterday' is neither an ISO 8601 time"),
        ("page=0", "page: 0 is out of range"),
        ("per_page=100000", "per_page: 100000 is out of range; use 1 to 500"),
        ("per_page=x", "per_page: 'x' is not an integer"),
        ("label=" + "x" * 300, "label: at most 255 characters"),
    ],
)
def test_a_bad_filter_is_a_400_that_names_it(
    client: httpx.Client, query: str, message: str
) -> None:
    answer = client.get(f"/api/processes?{query}")
    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_one_process_has_its_data_links_and_report(client: httpx.Client, web_home: WebHome) -> None:
    home = web_home.home
    parent = client.get(f"/api/processes/{home.parent}").json()
    assert parent["process_label"] == "Parent"
    assert parent["state"] == "finished"
    assert [link["label"] for link in parent["inputs"]] == ["x"]
    assert [called["pk"] for called in parent["called"]] == [home.child]
    report = parent["report"]
    assert [entry["message"] for entry in report["logs"]] == [
        "[Parent|run] parent starting",
        "[Parent|run] parent done",
    ]
    assert report["called"][0]["logs"][0]["message"] == "[Child|run] child got 4"
    child = client.get(f"/api/processes/{home.child}").json()
    assert child["caller"]["pk"] == home.parent
    broken = client.get(f"/api/processes/{home.broken}").json()
    assert broken["state"] == "excepted"
    assert "ValueError: broken on purpose" in broken["exception"]


def test_a_node_of_any_kind_has_its_attributes_and_links(
    client: httpx.Client, web_home: WebHome
) -> None:
    result = client.get(f"/api/nodes/{web_home.home.add_result}").json()
    assert result["node_type"] == "data.int"
    assert result["attributes"]["value"] == 5
    assert [(link["link_type"], link["pk"]) for link in result["incoming"]] == [
        ("create", web_home.home.add)
    ]


def test_the_daemon_document_says_no_daemon_runs(client: httpx.Client) -> None:
    answer = client.get("/api/daemon").json()
    assert answer["running"] is False
    assert answer["workers"] == []
    assert answer["failed_checkpoints"] == []


@pytest.mark.parametrize("path", ["/api/processes/987654", "/api/nodes/987654"])
def test_an_unknown_pk_is_a_404_in_json(client: httpx.Client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.json() == {
        "error": "no node with pk 987654 in the provenance database; "
        "`workactors process list` shows the stored processes",
        "status": 404,
    }


def test_a_data_node_is_not_a_process(client: httpx.Client, web_home: WebHome) -> None:
    answer = client.get(f"/api/processes/{web_home.home.add_result}")
    assert answer.status_code == 404
    assert "is a data.int node, not a process" in answer.json()["error"]


@pytest.mark.parametrize("pk", ["0", str(2**63), str(10**30)])
def test_a_pk_no_database_holds_is_a_404(client: httpx.Client, pk: str) -> None:
    assert client.get(f"/api/processes/{pk}").status_code == 404
    assert client.get(f"/processes/{pk}").status_code == 404


def test_markup_comes_back_as_data_in_json(client: httpx.Client, web_home: WebHome) -> None:
    answer = client.get(f"/api/processes/{web_home.hostile}").json()
    assert answer["label"] == HOSTILE
    assert answer["inputs"][0]["value"] == HOSTILE
    assert answer["report"]["logs"][0]["message"] == f"[Hostile|run] got {HOSTILE}"


def test_the_openapi_document_describes_every_api_route(client: httpx.Client) -> None:
    served = client.get("/api/openapi.json").json()
    assert served == SCHEMA
    routes = {
        route.path.replace(":int", "").replace(":str", "")  # type: ignore[attr-defined]
        for route in ROUTES
        if route.path.startswith("/api/")  # type: ignore[attr-defined]
    }
    assert routes == set(served["paths"])


def test_the_count_stops_past_the_page_and_says_there_are_more(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = client.get("/api/processes").json()["total"]
    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    capped = client.get("/api/processes?per_page=2").json()
    assert (capped["total"], capped["more"]) == (5, True)
    assert capped["total"] < everything
    last = -(-everything // 2)
    exact = client.get(f"/api/processes?per_page=2&page={last}").json()
    assert (exact["total"], exact["more"]) == (everything, False)
    page = client.get("/?per_page=2").text
    assert "of more than 5 processes" in page
    assert 'rel="next"' in page
    assert "last »" not in page
