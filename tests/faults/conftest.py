"""The fault tests use the daemon tests' fixtures: a home whose daemon is stopped afterwards,
and a marks folder."""

from tests.actors.daemon.conftest import daemon_home, marks

__all__ = ["daemon_home", "marks"]
