"""The live DuckDB warehouse as a Dagster resource, and the pool that serialises everything touching it.

DuckDB lets one process write a database file, and any open connection, even read-only, blocks other
processes from writing it. Every asset and check that opens the warehouse (ingestion, dbt, quality
checks, models, publishing) therefore runs in the `duckdb_warehouse` concurrency pool, whose limit of
one is set in the instance's dagster.yaml: concurrent runs queue instead of failing on the file lock.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
from pydantic import Field

WAREHOUSE_POOL = "duckdb_warehouse"
WAREHOUSE_PATH_ENV = "CLIENTELE_WAREHOUSE_PATH"
WAREHOUSE_MEMORY_ENV = "CLIENTELE_WAREHOUSE_MEMORY_LIMIT"  # read by dbt_project/profiles.yml
# DuckDB takes up to 80% of the machine's memory by default: at a million customers dbt's build reached
# 19 GB. Capped, DuckDB spills joins and aggregations to disk beside the database instead. The cap is what
# the largest build needs at a million customers: customer_features (16 M snapshot rows) failed at 3 GB
# and took 8.1 GB in 184 s at 8 GB (docs/performance.md).
DEFAULT_MEMORY_LIMIT = "8GB"


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB file the pipeline builds; connections are opened per use and always closed."""

    path: str
    memory_limit: str = Field(
        default=DEFAULT_MEMORY_LIMIT,
        description="The most memory DuckDB may use in a step, dbt's builds included (DuckDB's "
        "memory_limit, e.g. 3GB); past it, DuckDB spills to disk beside the warehouse.",
    )

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.path, read_only=read_only, config={"memory_limit": self.memory_limit})
        try:
            yield con
        finally:
            con.close()

    def read_frame(self, sql: str, parameters: list[object] | None = None) -> pd.DataFrame:
        with self.connect(read_only=True) as con:
            return con.execute(sql, parameters or []).df()

    @contextmanager
    def dbt_environment(self) -> Iterator[None]:
        """Point dbt's profile (which reads CLIENTELE_WAREHOUSE_PATH and CLIENTELE_WAREHOUSE_MEMORY_LIMIT)
        at this resource's file and memory limit.

        dbt runs as a subprocess that inherits the environment; setting it here keeps the resource the
        single source of the path. Steps touching the warehouse run one at a time (the pool), so the
        temporary change is not seen by a concurrent step.
        """
        settings = {
            WAREHOUSE_PATH_ENV: str(Path(self.path).resolve()),
            WAREHOUSE_MEMORY_ENV: self.memory_limit,
        }
        previous = {name: os.environ.get(name) for name in settings}
        os.environ.update(settings)
        try:
            yield
        finally:
            for name, value in previous.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def replace_snapshot(self, table: str, frame: pd.DataFrame, snapshot_column: str) -> int:
        """Replace the rows of `table` for the snapshot dates in `frame`, in one transaction.

        Model outputs keep one row per customer per scoring date: re-scoring a date replaces it, while
        earlier dates stay for trend analysis. When the frame's columns differ from the table's (a model
        gained or renamed an output), the table takes the frame's columns and keeps its earlier rows in
        the columns both share.
        """
        schema = table.split(".")[0]
        with self.connect() as con:
            con.register("incoming_frame", frame)
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table if not exists {table} as select * from incoming_frame limit 0")
            con.execute("begin transaction")
            try:
                _align_columns(con, table, list(frame.columns))
                con.execute(
                    f"delete from {table} where {snapshot_column} in "
                    f"(select distinct {snapshot_column} from incoming_frame)"
                )
                con.execute(f"insert into {table} by name select * from incoming_frame")
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
            finally:
                con.unregister("incoming_frame")
        return len(frame)


def _align_columns(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> None:
    """Rebuild `table` with the columns of `incoming_frame` when they differ, keeping the shared ones."""
    current = [row[0] for row in con.execute(f"select * from {table} limit 0").description]
    if current == columns:
        return
    shared = ", ".join(c for c in columns if c in current)
    con.execute(f"create table {table}__new as select * from incoming_frame limit 0")
    if shared:
        con.execute(f"insert into {table}__new by name select {shared} from {table}")
    con.execute(f"drop table {table}")
    con.execute(f"alter table {table}__new rename to {table.split('.')[-1]}")
