"""The aiida-core peer as the harness sees it: a ``VenvPeer`` with an aiida-core profile.

Each session's runner gets its own ``AIIDA_PATH`` in the workload's temporary home, so the
profile ``flows.open_session`` creates is as separate from the user's own AiiDA setup as from
workactors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.venv_peer.client import VenvPeer
from benchmarks.venv_peer.venv import VenvSpec

SPEC = VenvSpec(
    distribution="aiida-core",
    requirement="aiida-core==2.9.*",
    series="2.9.",
    folder="aiida-venv",
    install_time="about half a minute",
)


class AiidaPeer(VenvPeer):
    """aiida-core 2.9 on SQLite without a broker, in its own virtual environment."""

    name = "aiida"
    spec = SPEC
    flows = Path(__file__).parent

    def session_env(self, home: Path) -> dict[str, str]:
        """The profile's configuration lives in the temporary home."""
        return {"AIIDA_PATH": str(home / "config")}

    def facts(self) -> dict[str, Any]:
        """Where aiida-core ran and how its profile was set up."""
        return {
            **super().facts(),
            "aiida_core_version": self.version(),
            "profile": self._ready.get("profile"),
            "note": "profile as `verdi presto --no-broker` makes it: SQLite storage, no broker; "
            "a work chain awaiting children polls every runner.poll.interval seconds",
        }

    def database_files(self, home: Path) -> list[Path]:
        """Every file of the profile's storage: the SQLite database and the object store."""
        storage = home / "storage"
        if not storage.exists():
            return []
        return sorted(path for path in storage.rglob("*") if path.is_file())
