"""Pause, play and kill from the dashboard, on processes that are really running."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from actors import Runtime
from provenance import ProcessState, Str
from tests.actors.daemon.helpers import wait_for
from tests.actors.events import Events
from tests.actors.web.conftest import TOKEN, Serve
from tests.actors.workchains import AwaitsGated, gate

TIMEOUT = 60.0


def state_of(http: httpx.Client, pk: int) -> tuple[str, bool]:
    document = http.get(f"/api/processes/{pk}").json()
    return document["state"], document["paused"]


def test_a_running_process_is_paused_played_and_killed(serve: Serve, tmp_path: Path) -> None:
    names = [f"web-gate-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with Runtime(tmp_path / "live") as runtime:
        events = Events()
        runtime.add_listener(events)
        launched = [runtime.launch(AwaitsGated, {"gate": Str(name)}) for name in names]
        pids = [process.pid for process, _done in launched]
        for pid in pids:
            assert pid is not None
            events.wait_for(pid, "passivated")
        server = serve(runtime=runtime)
        headers = {"authorization": f"Bearer {TOKEN}"}
        try:
            with httpx.Client(base_url=server.url, timeout=TIMEOUT, headers=headers) as http:
                paused = http.post("/api/processes/pause", json={"pks": pids})
                assert paused.status_code == 200, paused.text
                assert [(o["pk"], o["result"]) for o in paused.json()] == [
                    (pid, "done") for pid in pids
                ]
                for pid in pids:
                    wait_for(lambda pid=pid: state_of(http, pid)[1], TIMEOUT, "paused")
                listed = http.get("/api/processes?state=waiting").json()["processes"]
                assert {p["pk"] for p in listed if p["paused"]} >= set(pids)

                played = http.post(f"/api/processes/{pids[0]}/play")
                assert played.json()[0]["ok"] is True
                wait_for(lambda: not state_of(http, pids[0])[1], TIMEOUT, "played")

                killed = http.post(
                    f"/api/processes/{pids[0]}/kill", json={"message": "from the dashboard"}
                )
                assert killed.status_code == 200, killed.text
                assert killed.json()[0]["result"] == "done"
                wait_for(lambda: state_of(http, pids[0])[0] == "killed", TIMEOUT, "killed")
                again = http.post(f"/api/processes/{pids[0]}/kill")
                assert again.status_code == 409
                assert "has already ended: it is KILLED" in again.json()[0]["message"]
                http.post(f"/api/processes/{pids[1]}/play")
        finally:
            for name in names:
                gate(name).set()
        assert launched[1][1].result(timeout=TIMEOUT)["value"].value == 7
        killed_node = runtime.load_node(pids[0])
        assert killed_node.process_state is ProcessState.KILLED  # type: ignore[attr-defined]
