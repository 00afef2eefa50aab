"""Fixtures of the engine tests: lifecycle events to wait on, and gates that always open."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from actors import Runtime
from tests.actors.events import Events
from tests.actors.workchains import gate


@pytest.fixture
def events(runtime: Runtime) -> Iterator[Events]:
    listener = Events()
    runtime.add_listener(listener)
    yield listener
    runtime.remove_listener(listener)


@pytest.fixture
def gate_name() -> Iterator[str]:
    name = f"gate-{uuid.uuid4().hex[:8]}"
    yield name
    gate(name).set()  # never leave a child blocked
