"""Which restore failures condemn a checkpoint and which are the database's, to try again.

Seen in the PostgreSQL-restart loop: a node read that the restarting server broke off (a raw
SQLAlchemy ``OperationalError``) refused the checkpoint as if its class had changed, and the
chain ended EXCEPTED instead of being adopted again once the server was back.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from persistence.errors import CheckpointLoadError
from persistence.restore import restore_process
from provenance.errors import DatabaseUnavailableError

#: A server nobody listens on: connecting fails as a restarting one does.
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"


class ReadsANodeOnRestore:
    """Restores by reading the database, which cannot be reached."""

    @classmethod
    def load_instance_state(cls, state: Any) -> Any:
        engine = sa.create_engine(UNREACHABLE)
        try:
            with engine.connect():
                return state
        finally:
            engine.dispose()


class BreaksOnRestore:
    """Cannot restore its state: the checkpoint is condemned."""

    @classmethod
    def load_instance_state(cls, state: Any) -> Any:
        raise ValueError(f"unexpected state {state!r}")


def test_a_database_cut_off_during_a_restore_is_worth_another_attempt() -> None:
    with pytest.raises(DatabaseUnavailableError, match="was not restored"):
        restore_process(7, f"{__name__}.ReadsANodeOnRestore", {}, "postgresql:running/7")


def test_a_class_that_cannot_restore_its_state_condemns_the_checkpoint() -> None:
    with pytest.raises(CheckpointLoadError, match="the class may have changed"):
        restore_process(7, f"{__name__}.BreaksOnRestore", {}, "postgresql:running/7")
