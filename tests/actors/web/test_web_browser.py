"""The dashboard in a real browser: Playwright driving the system's Chromium through list,
filters, live updates, a process, its graph, the daemon page, and kill and pause buttons.

Screenshots of every page go to ``$WORKACTORS_ARTIFACTS/web`` (CI keeps them) or the test's
temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from actors import Runtime
from provenance import Int, ProcessNode, Str
from tests.actors.cli.conftest import Broken, Parent, add, pk_of
from tests.actors.events import Events
from tests.actors.web.conftest import TOKEN, Serve
from tests.actors.workchains import AwaitsGated, gate

pytestmark = pytest.mark.slow

TIMEOUT_MS = 30_000
PADDING = "cell => getComputedStyle(cell).paddingLeft"


def chromium_path() -> str:
    """Debian's Chromium: Playwright cannot download its own browser here."""
    found = os.environ.get("WORKACTORS_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("the browser tests need Chromium: `apt-get install chromium` (.ci/run does)")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path())
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    opened.on("dialog", lambda dialog: dialog.accept())  # "Kill the process(es)?"
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    yield opened
    context.close()
    assert errors == [], f"the pages logged errors: {errors}"


def browse_the_list(page: Page, base: str, runtime: Runtime, shots: Path) -> None:
    """Anonymous, then signed in with the printed link; filters; a new row arrives live."""
    page.goto(base + "/")
    expect(page.locator("h1")).to_have_text("Processes")
    expect(page.get_by_text("Sign in to control processes")).to_be_visible()
    expect(page.locator("button[data-action=kill]")).to_have_count(0)
    page.screenshot(path=shots / "list-anonymous.png", full_page=True)

    page.goto(f"{base}/?token={TOKEN}")
    expect(page).to_have_url(base + "/")  # the token left the address
    expect(page.get_by_text("Sign out")).to_be_visible()
    rows = page.locator("table.processes tbody tr")
    expect(rows.first).to_be_visible()
    page.screenshot(path=shots / "list.png", full_page=True)

    page.select_option("select[name=state]", "excepted")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"state=excepted"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Broken")
    page.screenshot(path=shots / "list-filtered.png", full_page=True)

    page.goto(base + "/?class=add")
    before = rows.count()
    _result, fresh = runtime.run_get_node(add, Int(20), Int(22))
    expect(page.locator(f'tr[data-pk="{fresh.pk}"]')).to_be_visible()
    expect(rows).to_have_count(before + 1)


def browse_a_process_and_its_graph(page: Page, base: str, parent: ProcessNode, shots: Path) -> None:
    """From the list to a process, its report and call tree, its graph, and a click in it."""
    page.goto(base + "/")
    page.locator(f'tr[data-pk="{parent.pk}"] a').first.click()
    expect(page).to_have_url(f"{base}/processes/{parent.pk}")
    expect(page.locator("table.report")).to_contain_text("parent starting")
    expect(page.locator("ul.tree")).to_contain_text("Child")
    indents = [
        float(page.locator(f"table.report td.depth-{depth}").first.evaluate(PADDING)[:-2])
        for depth in (0, 1, 2)
    ]
    assert indents == sorted(set(indents)), f"the report is not indented by depth: {indents}"
    page.screenshot(path=shots / "process.png", full_page=True)
    page.get_by_role("link", name="provenance graph").click()
    expect(page).to_have_url(f"{base}/nodes/{parent.pk}")
    expect(page.locator(".svg svg")).to_be_visible()
    page.screenshot(path=shots / "graph.png", full_page=True)
    child = parent.called[0]
    page.locator(f'.svg svg a[*|href="/processes/{child.pk}"]').click()
    expect(page).to_have_url(f"{base}/processes/{child.pk}")
    expect(page.locator("h1")).to_contain_text("Child")

    page.goto(base + "/?state=excepted")
    page.locator("table.processes tbody tr a").first.click()
    expect(page.locator("pre.traceback")).to_contain_text("ValueError: broken on purpose")
    page.screenshot(path=shots / "excepted.png", full_page=True)

    page.goto(base + "/daemon")
    expect(page.locator("h1")).to_have_text("Daemon")
    expect(page.get_by_text("The daemon is not running")).to_be_visible()
    page.screenshot(path=shots / "daemon.png", full_page=True)


def kill_and_pause(page: Page, base: str, victim: int, paused: int, shots: Path) -> None:
    """Kill from a process page, pause a selection from the list; the pages follow live."""
    page.goto(f"{base}/processes/{victim}")
    expect(page.locator("#state")).to_have_text("waiting")
    page.fill("input[name=message]", "killed from the browser")
    page.locator("button[data-action=kill]").click()
    expect(page.locator("#notice")).to_contain_text(f"Process {victim} asked to stop")
    expect(page.locator("#state")).to_have_text("killed")
    page.screenshot(path=shots / "killed.png", full_page=True)

    page.goto(base + "/?state=waiting")
    page.check(f'input[name=pks][value="{paused}"]')
    page.locator("button[data-action=pause]").click()
    expect(page.locator("#notice")).to_contain_text(f"Process {paused} paused")
    expect(page.locator(f'tr[data-pk="{paused}"]')).to_contain_text("waiting (paused)")
    page.screenshot(path=shots / "paused.png", full_page=True)


def test_a_user_clicks_through_list_process_graph_and_kills(
    serve: Serve, tmp_path: Path, page: Page, shots: Path
) -> None:
    names = [f"browser-gate-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with Runtime(tmp_path / "home") as runtime:
        runtime.run(add, Int(2), Int(3))
        _out, parent = runtime.run_get_node(Parent, x=Int(4))
        assert isinstance(parent, ProcessNode)
        with pytest.raises(ValueError, match="broken on purpose"):
            runtime.run(Broken)
        events = Events()
        runtime.add_listener(events)
        launched = [runtime.launch(AwaitsGated, {"gate": Str(name)}) for name in names]
        victim, paused = (pk_of(process.node) for process, _done in launched)
        for pid in (victim, paused):
            events.wait_for(pid, "passivated")
        base = serve(runtime=runtime).url.rstrip("/")
        try:
            browse_the_list(page, base, runtime, shots)
            browse_a_process_and_its_graph(page, base, parent, shots)
            kill_and_pause(page, base, victim, paused, shots)
        finally:
            for name in names:
                gate(name).set()
            runtime.play(paused)
        assert launched[1][1].result(timeout=60)["value"].value == 7
