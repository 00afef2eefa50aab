"""``home.json``: a home records its database on first use and refuses any other after."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actors.home_identity import (
    HomeMismatchError,
    check_home,
    database_identity,
    identity_path,
    recorded_database,
)
from provenance.storage import sqlite_url


def test_the_first_use_records_the_database_without_its_password(tmp_path: Path) -> None:
    home = tmp_path / "home"
    check_home(home, "postgresql+psycopg://alice:s3cret@db.example:5432/work")

    text = identity_path(home).read_text()
    assert "s3cret" not in text
    assert json.loads(text)["database"] == "postgresql://alice:***@db.example:5432/work"
    assert identity_path(home).stat().st_mode & 0o777 == 0o600


def test_the_same_database_is_accepted_again_whatever_the_driver_or_password(
    tmp_path: Path,
) -> None:
    check_home(tmp_path, "postgresql+psycopg://alice:one@db.example/work")
    check_home(tmp_path, "postgresql://alice:two@db.example/work")
    assert recorded_database(tmp_path) == "postgresql://alice:***@db.example/work"


def test_another_database_is_refused_naming_both_and_what_to_do(tmp_path: Path) -> None:
    check_home(tmp_path, sqlite_url(tmp_path / "provenance.sqlite"))

    with pytest.raises(HomeMismatchError, match=r"belongs to the database sqlite:///.*provenance"):
        check_home(tmp_path, "postgresql://postgres@127.0.0.1/test")
    with pytest.raises(HomeMismatchError, match="Use the same --database-url"):
        check_home(tmp_path, sqlite_url(tmp_path / "other.sqlite"))


def test_a_sqlite_file_is_named_by_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert database_identity("sqlite:///rel.sqlite") == f"sqlite:///{tmp_path / 'rel.sqlite'}"
    assert database_identity(sqlite_url(tmp_path / "rel.sqlite")) == database_identity(
        "sqlite:///rel.sqlite"
    )


def test_a_damaged_home_json_is_refused_with_the_way_out(tmp_path: Path) -> None:
    identity_path(tmp_path).write_text("{not json")
    with pytest.raises(HomeMismatchError, match=r"cannot be read .* Remove it"):
        check_home(tmp_path, sqlite_url(tmp_path / "provenance.sqlite"))
    identity_path(tmp_path).write_text('{"format": "workactors-home"}')
    with pytest.raises(HomeMismatchError, match="does not say which database"):
        check_home(tmp_path, sqlite_url(tmp_path / "provenance.sqlite"))


def test_a_check_without_recording_leaves_a_new_home_unclaimed(tmp_path: Path) -> None:
    check_home(tmp_path, "postgresql://postgres@127.0.0.1/test", record=False)
    assert not identity_path(tmp_path).exists()
    check_home(tmp_path, "postgresql://postgres@127.0.0.1/test")
    with pytest.raises(HomeMismatchError):
        check_home(tmp_path, "postgresql://postgres@127.0.0.1/other", record=False)
