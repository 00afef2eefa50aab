"""Which failures are the database's: real errors from real connection attempts."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from provenance.errors import DatabaseUnavailableError, FencedError, StorageError
from provenance.outages import is_transient, outage_of, storage_failure

#: Nothing listens on port 1.
NOBODY_THERE = "postgresql://postgres@127.0.0.1:1/test?connect_timeout=2"


def _sqlalchemy_refused() -> sa.exc.OperationalError:
    engine = sa.create_engine(NOBODY_THERE.replace("postgresql:", "postgresql+psycopg:"))
    try:
        with pytest.raises(sa.exc.OperationalError) as caught, engine.connect():
            pass
    finally:
        engine.dispose()
    return caught.value


def _psycopg_refused() -> psycopg.OperationalError:
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect(NOBODY_THERE)
    return caught.value


def test_a_refused_connection_is_an_outage_from_either_driver_layer() -> None:
    for refused in (_sqlalchemy_refused(), _psycopg_refused()):
        assert is_transient(refused)
        outage = outage_of(refused)
        assert isinstance(outage, DatabaseUnavailableError)
        assert outage.__cause__ is refused
        assert "Connection refused" in str(outage) or "connection failed" in str(outage)


def test_an_outage_behind_a_users_own_error_is_found() -> None:
    refused = _sqlalchemy_refused()

    def read_outputs() -> None:
        try:
            raise refused
        except sa.exc.OperationalError as exc:
            raise KeyError("outputs") from exc

    with pytest.raises(KeyError) as wrapped:
        read_outputs()
    assert isinstance(outage_of(wrapped.value), DatabaseUnavailableError)


def test_errors_of_the_data_or_the_code_are_no_outage() -> None:
    assert outage_of(ValueError("a bug")) is None
    assert outage_of(sa.exc.ArgumentError("a bad statement")) is None
    assert not is_transient(StorageError("a value the database refused"))


def test_our_own_errors_pass_through_unchanged() -> None:
    fenced = FencedError("another worker holds it")
    unavailable = DatabaseUnavailableError("the server restarted")
    assert outage_of(fenced) is fenced
    assert outage_of(unavailable) is unavailable


def test_a_writer_is_told_whether_to_try_again() -> None:
    assert isinstance(storage_failure("commit", _sqlalchemy_refused()), DatabaseUnavailableError)
    refused_data = storage_failure("commit", ValueError("NUL in text"))
    assert type(refused_data) is StorageError
    assert str(refused_data).startswith("commit: ")
