"""Who may read and write: the token, its cookie, CSRF and origin checks, foreign hosts,
paths outside the app's routes, and markup shown as text."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import httpx
import pytest

from actors.web import BackgroundServer
from actors.web.settings import is_loopback
from tests.actors.web.conftest import HOSTILE, TOKEN, Serve, WebHome

ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"


def signed_in(server: BackgroundServer) -> httpx.Client:
    """A browser-like client that followed the printed link: it has the cookie."""
    browser = httpx.Client(base_url=server.url, timeout=60.0)
    answer = browser.get(f"/?token={TOKEN}")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    assert server.settings.cookie_name in browser.cookies
    return browser


def csrf_of(browser: httpx.Client) -> str:
    page = browser.get("/").text
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "a signed-in page carries the CSRF token"
    return found.group(1)


def test_a_write_without_the_token_is_refused(client: httpx.Client, web_home: WebHome) -> None:
    answer = client.post(f"/api/processes/{web_home.home.add}/kill")
    assert answer.status_code == 403
    assert "needs the dashboard's token" in answer.json()["error"]
    wrong = client.post(
        f"/api/processes/{web_home.home.add}/kill", headers={"authorization": "Bearer nope"}
    )
    assert wrong.status_code == 403


def test_a_script_with_the_token_is_answered_per_pk(
    writer: httpx.Client, web_home: WebHome
) -> None:
    add = web_home.home.add
    answer = writer.post("/api/processes/kill", json={"pks": [add, 987654]})
    assert answer.status_code == 409
    first, second = answer.json()
    assert (first["pk"], first["ok"]) == (add, False)
    assert "has already ended: it is FINISHED" in first["message"]
    assert (second["pk"], second["ok"]) == (987654, False)
    assert "no node with pk 987654" in second["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"pks": []}, "select at least one process to pause"),
        ({"pks": ["x"]}, "pks: 'x' is not an integer pk"),
        ({"pks": 3}, "pks: give a list of pks"),
        ({"pks": [-1]}, "pks: -1 is not a valid pk"),
        ({"pks": [3], "message": "x" * 2000}, "message: give text of at most 1000"),
    ],
)
def test_a_malformed_write_is_a_400(writer: httpx.Client, body: object, message: str) -> None:
    answer = writer.post("/api/processes/pause", json=body)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_a_large_or_multipart_body_is_refused_before_it_is_read(writer: httpx.Client) -> None:
    large = writer.post("/api/processes/pause", json={"pks": [3] * 40_000})
    assert large.status_code == 413
    assert "at most 65536 are read" in large.json()["error"]

    def chunks() -> Iterator[bytes]:  # no content-length: counted as it arrives
        yield b"pks=3&message="
        for _ in range(100):
            yield b"x" * 1024

    streamed = writer.post(
        "/api/processes/pause",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 413
    upload = writer.post("/api/processes/pause", files={"pks": ("pks.txt", b"3")})
    assert upload.status_code == 415
    assert "not multipart/form-data" in upload.json()["error"]


def test_an_unknown_action_is_a_400(writer: httpx.Client) -> None:
    answer = writer.post("/api/processes/explode", json={"pks": [3]})
    assert answer.status_code == 400
    assert "'explode' is not an action; use one of" in answer.json()["error"]


def test_reads_of_writes_are_not_allowed(client: httpx.Client) -> None:
    answer = client.get("/api/processes/kill")
    assert answer.status_code in (404, 405)


def test_a_signed_in_browser_needs_the_csrf_token_and_its_own_origin(
    server: BackgroundServer, web_home: WebHome
) -> None:
    pk = web_home.home.add
    with contextlib.closing(signed_in(server)) as browser:
        csrf = csrf_of(browser)
        origin = server.url.rstrip("/")
        without = browser.post(f"/api/processes/{pk}/pause", headers={"origin": origin})
        assert without.status_code == 403
        assert "CSRF token is missing or wrong" in without.json()["error"]
        foreign = browser.post(
            f"/api/processes/{pk}/pause",
            data={"csrf": csrf},
            headers={"origin": "http://evil.example"},
        )
        assert foreign.status_code == 403
        assert "does not come from a page of this dashboard" in foreign.json()["error"]
        no_origin = browser.post(f"/api/processes/{pk}/pause", data={"csrf": csrf})
        assert no_origin.status_code == 403
        allowed = browser.post(
            f"/api/processes/{pk}/pause",
            data={"csrf": csrf},
            headers={"origin": origin, "accept": "text/html"},
        )
        # Let through: the process has ended, which the outcomes page says.
        assert allowed.status_code == 409
        assert "has already ended" in allowed.text


def test_pages_offer_controls_only_when_signed_in(
    server: BackgroundServer, client: httpx.Client
) -> None:
    assert 'name="csrf" value=""' in client.get("/").text
    assert "Sign in to control processes" in client.get("/").text
    with contextlib.closing(signed_in(server)) as browser:
        page = browser.get("/").text
        assert "Sign out" in page
        assert 'formaction="/api/processes/kill"' in page


def test_a_wrong_token_in_the_address_is_refused(client: httpx.Client) -> None:
    answer = client.get("/?token=wrong")
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers


def test_the_login_form_checks_the_token_and_the_origin(
    server: BackgroundServer, client: httpx.Client
) -> None:
    origin = {"origin": server.url.rstrip("/")}
    wrong = client.post("/login", data={"token": "nope"}, headers=origin)
    assert wrong.status_code == 403
    assert "That is not the token." in wrong.text
    foreign = client.post("/login", data={"token": TOKEN}, headers={"origin": "http://evil"})
    assert foreign.status_code == 403
    right = client.post("/login", data={"token": TOKEN}, headers=origin)
    assert right.status_code == 303
    cookie = right.headers["set-cookie"]
    assert TOKEN in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie


def test_a_foreign_host_header_is_refused_on_loopback(client: httpx.Client) -> None:
    answer = client.get("/", headers={"host": "evil.example"})
    assert answer.status_code == 421
    assert client.get("/", headers={"host": "localhost"}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/static/../pyproject.toml",
        "/static/%2e%2e/pyproject.toml",
        "/static/..%2fpyproject.toml",
        "/static/app.css/../../README.md",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/static/",
        "/static/templates/base.html",
        "/actors/web/app.py",
    ],
)
def test_nothing_outside_the_routes_is_served(client: httpx.Client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert "workactors" not in answer.text.split("</header>")[-1].lower() or "nothing at" in (
        answer.text
    )
    assert "[project]" not in answer.text
    assert "root:" not in answer.text


def test_every_answer_carries_the_security_headers(client: httpx.Client) -> None:
    for path in ("/", "/api/processes", "/static/app.js", "/nothing"):
        headers = client.get(path).headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"


def test_markup_in_labels_reports_and_values_is_shown_as_text(
    client: httpx.Client, web_home: WebHome
) -> None:
    pk = web_home.hostile
    for path in (f"/?label={HOSTILE}", f"/processes/{pk}", f"/nodes/{pk}"):
        page = client.get(path).text
        assert HOSTILE not in page, path
        assert ESCAPED in page, path
    svg = client.get(f"/nodes/{pk}/graph.svg").text
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg


def test_off_loopback_every_page_needs_the_token(serve: Serve, web_home: WebHome) -> None:
    # Listening on every interface, but the test talks to it on the loopback only.
    server = serve(home=web_home.path, host="0.0.0.0")
    assert not server.settings.loopback
    with httpx.Client(base_url=server.url, timeout=60.0) as http:
        assert http.get("/").headers["location"] == "/login"
        assert http.get("/api/processes").status_code == 401
        assert http.get("/login").status_code == 200
        assert http.get("/static/app.css").status_code == 200
        bearer = {"authorization": f"Bearer {TOKEN}"}
        assert http.get("/api/processes", headers=bearer).status_code == 200
        assert http.get(f"/?token={TOKEN}").status_code == 303
        assert http.get("/").status_code == 200  # the cookie now signs every read


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.4.5.6", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("192.168.1.4", False),
        ("example.org", False),
    ],
)
def test_which_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
