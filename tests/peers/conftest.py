"""The ported peer tests use the engine tests' fixtures: lifecycle events and gates."""

from __future__ import annotations

from tests.actors.conftest import events, gate_name

__all__ = ["events", "gate_name"]
