"""Fixtures every test folder may use: fresh PostgreSQL databases (see `tests/postgres_server.py`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres_server import fresh_database


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty database for one test."""
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="module")
def module_postgres_url() -> Iterator[str]:
    """A new, empty database shared by one test module (for an expensive build several tests read)."""
    with fresh_database() as url:
        yield url
