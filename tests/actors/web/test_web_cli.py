"""``workactors web``: the command serves a home until interrupted, and says clearly why it
cannot start."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from actors.cli import web as cli_web
from actors.web import settings
from tests.actors.cli.conftest import Cli
from tests.actors.daemon.helpers import REPOSITORY, wait_for
from tests.actors.web.conftest import TOKEN, WebHome
from tests.actors.web.events import sse_events

TIMEOUT = 60.0


class Lines:
    """The lines a command prints, read on a thread of their own.

    ``select`` on the pipe is not enough: one ``readline`` may pull two lines into the file's
    buffer, and the pipe then looks empty while the second line waits in the buffer.
    """

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self._lines: queue.Queue[str] = queue.Queue()
        stream = process.stdout
        threading.Thread(
            target=lambda: [self._lines.put(line) for line in stream], daemon=True
        ).start()

    def next(self, timeout: float) -> str:
        """The next line, waiting at most ``timeout`` seconds for it."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"`workactors web` printed nothing within {timeout:g} s") from None


def test_the_command_serves_the_home_until_interrupted(web_home: WebHome, tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    # `--open` asks the browser $BROWSER names: here, a command that writes down the address.
    browser = f"{sys.executable} -c \"import sys; open(sys.argv[1], 'w').write(sys.argv[2])\""
    environment = {
        **os.environ,
        "PYTHONPATH": str(REPOSITORY),
        "COLUMNS": "200",
        "BROWSER": f"{browser} {opened} %s",
    }
    environment.pop("WORKACTORS_DATABASE_URL", None)
    command = ["actors.cli", "--home", str(web_home.path), "web"]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.ctrl_c", *command, "--port", "0", "--token", TOKEN, "--open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=tmp_path,
    )
    interrupted = False  # a second Ctrl-C would stop the server at once, not cleanly
    try:
        lines = Lines(process)
        first = lines.next(TIMEOUT)
        found = re.match(r"Dashboard on (http://127\.0\.0\.1:\d+/) \(Ctrl-C stops it\)", first)
        assert found, first
        url = found.group(1)
        assert lines.next(TIMEOUT).strip() == f"Sign in for pause/play/kill: {url}?token={TOKEN}"
        with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
            answer = http.get("/api/processes")
            assert answer.status_code == 200
            assert answer.json()["total"] >= 9
            broken = http.get(f"/api/processes/{web_home.home.broken}").json()
            assert "ValueError: broken on purpose" in broken["exception"]
            assert http.get("/api/nodes/987654").status_code == 404
            assert http.post(f"/api/processes/{web_home.home.add}/kill").status_code == 403
            killed = http.post(
                f"/api/processes/{web_home.home.add}/kill",
                headers={"authorization": f"Bearer {TOKEN}"},
            )
            assert killed.status_code == 409
            assert "has already ended" in killed.json()[0]["message"]
        wait_for(lambda: opened.exists() and opened.read_text(), TIMEOUT, "the browser was asked")
        assert opened.read_text() == f"{url}?token={TOKEN}"
        # Ctrl-C while a page follows the list live: the stream ends, the server stops.
        with (
            httpx.Client(base_url=url, timeout=TIMEOUT) as http,
            http.stream("GET", "/events/processes") as answer,
        ):
            events = sse_events(answer)
            assert next(events)[0] == "table"
            process.send_signal(signal.SIGINT)
            interrupted = True
            assert list(events) == []
    finally:
        if not interrupted:
            process.send_signal(signal.SIGINT)
        _out, errors = process.communicate(timeout=TIMEOUT)
    # Stopped cleanly, with the status every command interrupted by Ctrl-C has.
    assert process.returncode == 128 + signal.SIGINT, errors
    assert errors == ""


def test_a_busy_port_is_a_one_line_error(cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = cli("web", "--port", str(port))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use; choose another "
        "--port (or stop what uses it)"
    )


def test_a_short_token_is_refused(cli: Cli) -> None:
    result = cli("web", "--token", "short")
    assert result.exit_code == 2
    assert "the token must have at least 16 characters, not 5" in result.stderr


def test_an_unknown_host_is_a_one_line_error(cli: Cli) -> None:
    result = cli("web", "--host", "no-such-host.invalid", "--port", "0")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot listen on 'no-such-host.invalid'")


def test_the_command_defaults_are_the_dashboard_defaults() -> None:
    assert cli_web.DEFAULT_HOST == settings.DEFAULT_HOST
    assert cli_web.DEFAULT_PORT == settings.DEFAULT_PORT
