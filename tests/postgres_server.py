"""A fresh PostgreSQL database on the machine's real server, for every test folder that needs one.

The server is CLIENTELE_TEST_PG_URL (default: the CI machine's 127.0.0.1:5432, trust auth). Each test
gets its own database, dropped afterwards, so tests never meet each other's tables or a server's other
data. Without a server the tests skip with the reason, except under CI=true, where an unreachable
server is a failure: CI must never pass by skipping the real thing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

TEST_SERVER_URL = os.environ.get("CLIENTELE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _server_or_skip() -> None:
    try:
        with psycopg.connect(TEST_SERVER_URL, connect_timeout=5):
            return
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL test server {TEST_SERVER_URL} unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def fresh_database() -> Iterator[str]:
    """The conninfo of a new, empty database on the test server; dropped (with its connections) afterwards."""
    _server_or_skip()
    name = f"clientele_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(TEST_SERVER_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(TEST_SERVER_URL, dbname=name)
    finally:
        with psycopg.connect(TEST_SERVER_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def dbt_postgres_environment(conninfo: str) -> dict[str, str]:
    """The `CLIENTELE_PG_*` variables that point dbt's `postgres` target (profiles.yml) at `conninfo`."""
    parts = conninfo_to_dict(conninfo)
    return {
        "CLIENTELE_PG_HOST": str(parts.get("host", "127.0.0.1")),
        "CLIENTELE_PG_PORT": str(parts.get("port", "5432")),
        "CLIENTELE_PG_USER": str(parts.get("user", "postgres")),
        "CLIENTELE_PG_PASSWORD": str(parts.get("password", "")),
        "CLIENTELE_PG_DATABASE": str(parts["dbname"]),
    }
