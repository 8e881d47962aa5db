"""The demo's sales as a real shop database: the landing exports replayed into PostgreSQL.

An operational database keeps one current version of each row, typed, with its `updated_at`. So the
seed loads every sales export through the raw layer's own reader and typing (into a throw-away DuckDB),
keeps the newest version of each key, and copies that into `shop.<source>` tables with primary keys.
Rows the typing rejects would have been refused by a typed database too; they are counted and left out.

    python -m sources.demo.shop_database [--landing data/landing] --url postgresql://root@127.0.0.1/shop
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from sources.config import load_config
from sources.contracts import SALES_SOURCES, SourceContract
from sources.demo.config import demo_config, demo_period
from sources.landing import read_landing_file
from sources.raw_tables import load_window, newest_versions_sql
from sources.shop_database import SHOP_SCHEMA, safe_address

_START, _END = demo_period()
_TIMEZONE = demo_config().calendar.timezone

# The demo seeds with a fixed key: the throw-away hashes are never kept.
_SEED_PII_KEY = b"demo-seed"


def postgres_type(duckdb_type: str, zoned_timestamps: bool = True) -> str:
    """The PostgreSQL type of a DuckDB column type. A shop's timestamps are instants (`timestamptz`), as in
    most shops; `zoned_timestamps=False` keeps wall-clock `timestamp`s, as the warehouse's raw layer has."""
    upper = duckdb_type.upper()
    if upper == "TIMESTAMP":
        return "timestamptz" if zoned_timestamps else "timestamp"
    return {"VARCHAR": "text", "DOUBLE": "double precision"}.get(upper, duckdb_type.lower())


def shop_table_ddl(contract: SourceContract) -> sql.Composed:
    columns = [
        sql.SQL("{} {}{}").format(
            sql.Identifier(c.name), sql.SQL(postgres_type(c.type)), sql.SQL(" not null" if c.required else "")
        )
        for c in contract.columns
    ]
    return sql.SQL("create table {table} ({columns}, primary key ({key}))").format(
        table=sql.Identifier(SHOP_SCHEMA, contract.name),
        columns=sql.SQL(", ").join(columns),
        key=sql.SQL(", ").join(sql.Identifier(k) for k in contract.key),
    )


@dataclass(frozen=True)
class SeededTable:
    table: str
    rows: int
    rows_not_typed: int


def _current_versions(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, landing_dir: Path, start: date, end: date
) -> tuple[list[tuple[object, ...]], int]:
    """The newest version of each key across the exports [start, end), and the rows the typing rejected."""
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    batches = [read_landing_file(contract, contract.file_for(landing_dir, day), day) for day in days]
    result = load_window(con, contract, batches, start, end, _SEED_PII_KEY)
    rows = con.execute(newest_versions_sql(contract)).fetchall()
    return rows, result.rows_quarantined


def seed_shop_database(
    landing_dir: Path,
    url: str,
    start: date = _START,
    end: date = _END,
    timezone: str = _TIMEZONE,
) -> list[SeededTable]:
    """Replace schema `shop` of the database at `url` with the current sales rows of the landing exports.

    The demo's timestamps are local times of `timezone`; they are stored as instants in that zone.
    """
    seeded = []
    with duckdb.connect() as staging, psycopg.connect(url) as connection:
        connection.execute(sql.SQL("set time zone {}").format(sql.Literal(timezone)))
        connection.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(SHOP_SCHEMA)))
        connection.execute(sql.SQL("create schema {}").format(sql.Identifier(SHOP_SCHEMA)))
        for contract in SALES_SOURCES:
            rows, rejected = _current_versions(staging, contract, landing_dir, start, end)
            connection.execute(shop_table_ddl(contract))
            copy = sql.SQL("copy {} ({}) from stdin").format(
                sql.Identifier(SHOP_SCHEMA, contract.name),
                sql.SQL(", ").join(sql.Identifier(c) for c in contract.column_names),
            )
            with connection.cursor().copy(copy) as writer:
                for row in rows:
                    writer.write_row(row)
            connection.execute(
                sql.SQL("create index on {} ({})").format(
                    sql.Identifier(SHOP_SCHEMA, contract.name), sql.Identifier(contract.version_column)
                )
            )
            seeded.append(SeededTable(f"{SHOP_SCHEMA}.{contract.name}", len(rows), rejected))
    return seeded


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sources.demo.shop_database", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--landing", type=Path, default=None, help="the demo's landing folder (default: the configuration's)"
    )
    parser.add_argument("--url", required=True, help="PostgreSQL connection URL of the shop database")
    parser.add_argument("--start", type=date.fromisoformat, default=_START, help="first export day")
    parser.add_argument("--end", type=date.fromisoformat, default=_END, help="day after the last export")
    parser.add_argument("--timezone", default=_TIMEZONE, help="the shop's local time zone")
    args = parser.parse_args(argv)
    landing = args.landing or load_config().paths.landing_dir
    for table in seed_shop_database(landing, args.url, args.start, args.end, args.timezone):
        print(
            f"[shop] {safe_address(args.url)} {table.table}: {table.rows} rows "
            f"({table.rows_not_typed} export rows did not fit the typed table)"
        )


if __name__ == "__main__":
    main()
