"""Running the real dbt project in-process on a warehouse file, and reading the tables it builds back.

Shared by the warehouse tests (imported like `raw_fixture`, through pytest's `pythonpath`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml  # type: ignore[import-untyped]
from dbt.cli.main import dbtRunner, dbtRunnerResult
from raw_fixture import build_raw_warehouse, fixture_rows, unresolved_customer_rows

from orchestration.lib.dbt import deployment_vars
from sources.demo.config import demo_config

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# bi.* reads the ML step's score tables, which only the pipeline (or test_kpi_marts) creates
WITHOUT_ML = ["--exclude", "path:models/bi"]


@dataclass
class Dbt:
    """Runs the real dbt in-process against one warehouse file, with its own target and log folders."""

    target_path: Path

    def __call__(self, warehouse: Path, *args: str) -> dbtRunnerResult:
        os.environ["CLIENTELE_WAREHOUSE_PATH"] = str(warehouse)
        result = dbtRunner().invoke(
            [
                *with_pipeline_vars(warehouse, args),
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(self.target_path),
                "--log-path",
                str(self.target_path / "logs"),
                "--quiet",
            ]
        )
        if not result.success:
            failures = [
                f"{r.node.unique_id}: {r.status}: {r.message}"
                for r in (getattr(result.result, "results", None) or [])
                if str(r.status) not in {"success", "pass"}
            ]
            raise AssertionError(f"dbt {' '.join(args)} failed: {result.exception or failures}")
        return result


def with_pipeline_vars(warehouse: Path, args: tuple[str, ...]) -> list[str]:
    """`args` with the vars Dagster would pass: the demo deployment's, and a scoring date (the day after
    the fixture's last orders export), under any `--vars` the test gives itself."""
    given: dict[str, Any] = {}
    rest = list(args)
    if "--vars" in rest:
        at = rest.index("--vars")
        given = yaml.safe_load(rest[at + 1]) or {}
        del rest[at : at + 2]
    defaults: dict[str, Any] = {**deployment_vars(demo_config()), **fixture_scoring_date(warehouse)}
    return [*rest, "--vars", json.dumps({**defaults, **given}, default=str)]


def fixture_scoring_date(warehouse: Path) -> dict[str, str]:
    """{"scoring_date": the day after the latest raw orders export}, or {} before any orders exist."""
    if not warehouse.exists():
        return {}
    try:  # not read-only: dbt may hold this file open in this process, and DuckDB wants one configuration
        row = query(warehouse, "select max(_export_date) + 1 from raw.sales_orders")[0]
    except duckdb.CatalogException:
        return {}
    return {"scoring_date": row[0].isoformat()} if row and row[0] else {}


@contextmanager
def isolated_dbt(target_path: Path) -> Iterator[Dbt]:
    """A `Dbt` writing to `target_path`; the environment it sets (the warehouse path) is restored on exit."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        env.setenv("CLIENTELE_WAREHOUSE_PATH", "")
        yield Dbt(target_path=target_path)


def all_rows() -> list[Any]:
    """The raw fixture plus the facts no customer can be resolved to."""
    return fixture_rows() + unresolved_customer_rows()


def built_warehouse(dbt: Dbt, folder: Path, *dbt_args: str) -> Path:
    """`folder/warehouse.duckdb` holding every raw row of `all_rows()`, then `dbt <dbt_args>` run on it."""
    warehouse = folder / "warehouse.duckdb"
    build_raw_warehouse(str(warehouse), all_rows())
    dbt(warehouse, *dbt_args)
    return warehouse


def query(warehouse: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(warehouse))
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def mart_tables(warehouse: Path) -> list[str]:
    rows = query(
        warehouse,
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1",
    )
    return [name for (name,) in rows]


def comparable_rows(rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """`rows` in a total order, doubles to 12 significant digits (the order a parallel aggregate adds them
    in moves the last bits), so two builds of one table compare equal."""
    rounded = [tuple(float(f"{v:.12g}") if isinstance(v, float) else v for v in row) for row in rows]
    return sorted(rounded, key=repr)


def table_rows(warehouse: Path, table: str) -> list[tuple[Any, ...]]:
    """Every row and column of a table, as `comparable_rows`."""
    return comparable_rows(query(warehouse, f"select * from {table}"))


def customer_of(warehouse: Path, source: str, source_id: str) -> str:
    """The customer the identity bridge resolves one source record to; exactly one bridge row must exist."""
    rows = query(
        warehouse,
        "select customer_id from marts.customer_identity_bridge where source = ? and source_id = ?",
        [source, source_id],
    )
    assert len(rows) == 1, (source, source_id, rows)
    return str(rows[0][0])
