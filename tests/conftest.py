"""Fixtures every test folder may use: fresh PostgreSQL databases (see `tests/postgres_server.py`) and the
real CDNOW sample, read where it lies (../shared/data/), never copied into the repository.

Tests run as the demo deployment unless the environment names another configuration: the code
location reads `CLIENTELE_CONFIG` once, when its modules are first imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sources.config import CONFIG_ENV
from sources.demo.config import DEMO_CONFIG_PATH
from tests.postgres_server import fresh_database

os.environ.setdefault(CONFIG_ENV, str(DEMO_CONFIG_PATH))

# ../shared/data/ beside the repository root (its README describes the file).
CDNOW_SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "CDNOW_sample.txt"


@pytest.fixture(scope="session")
def cdnow_sample_path() -> Path:
    """The CDNOW sample; a test that needs it fails (never skips) without it, so a missing file is seen."""
    if not CDNOW_SAMPLE.is_file():
        pytest.fail(
            f"the CDNOW sample is missing: expected {CDNOW_SAMPLE} (../shared/data/CDNOW_sample.txt from the "
            "repository root). The tests read the real file there; put it back rather than copying it into "
            "the repository.",
            pytrace=False,
        )
    return CDNOW_SAMPLE


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
