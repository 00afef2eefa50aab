"""The libpq connection string the checkpoint store connects with, over a real connection."""

from __future__ import annotations

import urllib.parse

import psycopg

from persistence.pg_connection import channel_of, conninfo_of
from tests.helpers import with_server_option


def test_every_server_option_of_the_url_reaches_the_connection(postgres_url: str) -> None:
    """Two ``-c`` settings, separated by a space: rendered by SQLAlchemy, the space became a
    ``+`` that libpq kept, and the search path named a schema that does not exist."""
    url = with_server_option(postgres_url, "-clock_timeout=1234")
    schema = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(postgres_url).query))["options"]
    with psycopg.connect(conninfo_of(url)) as connection:
        search_path = connection.execute("SHOW search_path").fetchone()
        lock_timeout = connection.execute("SHOW lock_timeout").fetchone()
    assert search_path is not None
    assert f"-csearch_path={search_path[0]}" == schema
    assert lock_timeout == ("1234ms",)


def test_the_channel_stays_the_same_for_the_same_database_and_schema(postgres_url: str) -> None:
    assert channel_of(postgres_url) == channel_of(postgres_url.replace("+psycopg", ""))
    assert channel_of(postgres_url) != channel_of(postgres_url.replace("/test?", "/other?"))
