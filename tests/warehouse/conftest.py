"""The fixture the warehouse test modules share: the real dbt, one per module with its own target folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dbt_runner import Dbt, isolated_dbt


@pytest.fixture(scope="module")
def dbt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dbt]:
    with isolated_dbt(tmp_path_factory.mktemp("dbt_target")) as dbt:
        yield dbt
