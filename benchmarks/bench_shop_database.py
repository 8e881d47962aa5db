"""How fast sales come out of the shop's PostgreSQL database and into the raw layer, next to landing files.

Generates a demo (`--customers`, two years), seeds it into a fresh database on `--server`, then times,
per sales source and over the whole calendar as one window (what a single-run backfill does): the
extract (`extract_window`) and the load (`load_window`) into an in-memory DuckDB, and, for comparison,
reading the same source's landing files. Medians of `--repeats`; rows per second on the extract.

    .venv/bin/python benchmarks/bench_shop_database.py --customers 5000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from sources.contracts import SALES_SOURCES
from sources.demo.config import demo_config
from sources.demo.generator import DEMO_END, DEMO_START, DemoConfig, generate
from sources.demo.shop_database import seed_shop_database
from sources.landing import read_landing_file
from sources.raw_tables import load_window
from sources.shop_database import extract_window

KEY = b"benchmark"


def _median_seconds(action, repeats: int) -> tuple[float, object]:
    timings, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"clientele_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.server, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = make_conninfo(args.server, dbname=name)
    days = [DEMO_START + timedelta(days=i) for i in range((DEMO_END - DEMO_START).days)]
    try:
        with tempfile.TemporaryDirectory() as folder:
            landing = Path(folder) / "landing"
            generate(DemoConfig(customers=args.customers), Path(folder), report=lambda _: None)
            seed_shop_database(landing, url)
            print(f"{args.customers} customers, window {DEMO_START} .. {DEMO_END} ({len(days)} days)")
            print(f"{'source':<18} {'rows':>8} {'extract s':>10} {'rows/s':>9} {'load s':>8} {'files s':>8}")
            for contract in SALES_SOURCES:
                extract_s, batches = _median_seconds(
                    lambda c=contract: extract_window(
                        url, c, DEMO_START, DEMO_END, demo_config().calendar.timezone, initial=True
                    ),
                    args.repeats,
                )
                load_s, result = _median_seconds(
                    lambda c=contract, b=batches: load_window(
                        duckdb.connect(), c, b, DEMO_START, DEMO_END, KEY
                    ),
                    args.repeats,
                )
                files_s, _ = _median_seconds(
                    lambda c=contract: [read_landing_file(c, c.file_for(landing, d), d) for d in days],
                    args.repeats,
                )
                rows = result.rows_read  # type: ignore[attr-defined]
                print(
                    f"{contract.raw_table:<18} {rows:>8} {extract_s:>10.2f} {rows / extract_s:>9.0f} "
                    f"{load_s:>8.2f} {files_s:>8.2f}"
                )
    finally:
        with psycopg.connect(args.server, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
