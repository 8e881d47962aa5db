"""The same dbt project on a real PostgreSQL server (`--target postgres`) gives the same marts as on DuckDB.

A fresh database is created for the module (never assuming an empty server), its `raw` schema made from the
DuckDB fixture's raw tables (the loader's DDL from `sources.contracts`, types mapped to Postgres) with the very
same rows, `dbt build --target postgres` runs in-process, and every mart table is compared, every row and
column, with the DuckDB build of the same fixture. The database is dropped afterwards.

The database comes from tests/postgres_server.py: without a reachable server the module is skipped, except under
CI=true, where it fails: CI must test Postgres.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from dbt_runner import (
    WITHOUT_ML,
    Dbt,
    built_warehouse,
    comparable_rows,
    mart_tables,
    query,
    table_rows,
)
from psycopg import sql

from sources.demo.shop_database import postgres_type
from tests.postgres_server import dbt_postgres_environment


def copy_raw_schema(source: Path, url: str) -> None:
    """Create schema raw in the database at `url` with the DuckDB file's raw tables (columns in order) and rows."""
    duck = duckdb.connect(str(source))
    try:
        tables = [
            t
            for (t,) in duck.execute(
                "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
            ).fetchall()
        ]
        with psycopg.connect(url) as pg, pg.cursor() as cursor:
            cursor.execute("create schema raw")
            for table in tables:
                columns = duck.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                target = sql.Identifier("raw", table)
                cursor.execute(
                    sql.SQL("create table {} ({})").format(
                        target,
                        sql.SQL(", ").join(
                            sql.SQL("{} {}").format(
                                sql.Identifier(name), sql.SQL(postgres_type(kind, zoned_timestamps=False))
                            )
                            for name, kind in columns
                        ),
                    )
                )
                rows = duck.execute(f"select * from raw.{table}").fetchall()
                if rows:
                    cursor.executemany(
                        sql.SQL("insert into {} values ({})").format(
                            target, sql.SQL(", ").join(sql.Placeholder() * len(columns))
                        ),
                        rows,
                    )
    finally:
        duck.close()


def postgres_table_rows(url: str, table: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as pg, pg.cursor() as cursor:
        cursor.execute(sql.SQL("select * from {}").format(sql.Identifier("marts", table)))
        return comparable_rows(cursor.fetchall())


def postgres_mart_tables(url: str) -> list[str]:
    with psycopg.connect(url) as pg, pg.cursor() as cursor:
        cursor.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' and table_type = 'BASE TABLE' order by 1"
        )
        return [name for (name,) in cursor.fetchall()]


@pytest.fixture(scope="module")
def duckdb_build(dbt: Dbt, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # the DuckDB build itself is tested in test_dbt_project; here it is the reference
    return built_warehouse(dbt, tmp_path_factory.mktemp("duckdb"), "run", *WITHOUT_ML)


@pytest.fixture(scope="module")
def postgres_build(module_postgres_url: str, dbt: Dbt, duckdb_build: Path) -> str:
    copy_raw_schema(duckdb_build, module_postgres_url)
    with pytest.MonkeyPatch.context() as env:
        for name, value in {
            **dbt_postgres_environment(module_postgres_url),
            "CLIENTELE_PG_SCHEMA": "public",
        }.items():
            env.setenv(name, value)
        dbt(duckdb_build, "build", "--target", "postgres", *WITHOUT_ML)
    return module_postgres_url


def test_postgres_build_has_every_mart(postgres_build: str, duckdb_build: Path) -> None:
    assert postgres_mart_tables(postgres_build) == mart_tables(duckdb_build)


def test_every_mart_is_identical_on_postgres_and_duckdb(postgres_build: str, duckdb_build: Path) -> None:
    differing = [
        table
        for table in mart_tables(duckdb_build)
        if postgres_table_rows(postgres_build, table) != table_rows(duckdb_build, f"marts.{table}")
    ]
    assert differing == []
    [(orders,)] = query(duckdb_build, "select count(*) from marts.fct_orders")
    assert orders > 0
