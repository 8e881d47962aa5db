"""Sales from a real PostgreSQL shop database: extracts by local day, lookback, outages, schema drift.

Every test runs against its own fresh database on the machine's PostgreSQL server (`postgres_url`).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import psycopg
import pytest

from orchestration.defs.ingestion.assets import QuarantineGateResource, build_shop_database_asset
from orchestration.lib.shop_database import ShopDatabaseResource
from orchestration.lib.warehouse import WarehouseResource
from sources.contracts import ORDERS, SALES_SOURCES, SourceContract
from sources.demo.config import DEMO_CONFIG_PATH
from sources.demo.generator import DemoConfig, generate
from sources.demo.shop_database import seed_shop_database, shop_table_ddl
from sources.landing import read_landing_file
from sources.raw_tables import Replace, load_window, newest_versions_sql, raw_table_name
from sources.shop_database import RetryPolicy, ShopDatabaseError, extract_window

KEY = b"test-key"
BERLIN = "Europe/Berlin"
CALENDAR_START = date(2024, 1, 1)


def create_shop_tables(url: str) -> None:
    with psycopg.connect(url) as connection:
        connection.execute("create schema shop")
        for contract in SALES_SOURCES:
            connection.execute(shop_table_ddl(contract))


def insert_order(url: str, order_id: str, updated_at: str, total: str = "10.00") -> None:
    """An order whose ordered_at and updated_at are `updated_at` (an instant with its UTC offset)."""
    with psycopg.connect(url) as connection:
        connection.execute(
            "insert into shop.orders (order_id, account_id, channel, ordered_at, currency, order_total, updated_at)"
            " values (%s, 'A1', 'web', %s, 'EUR', %s, %s)",
            [order_id, updated_at, total, updated_at],
        )


def current_versions(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> list[tuple[object, ...]]:
    """The newest raw version of every key, as staging would pick it, contract columns only."""
    return con.execute(newest_versions_sql(contract)).fetchall()


def raw_rows(con: duckdb.DuckDBPyConnection, contract: SourceContract = ORDERS) -> list[tuple[object, ...]]:
    return con.execute(
        f"select * exclude (_loaded_at) from {raw_table_name(contract)} order by all"
    ).fetchall()


def test_extract_of_the_seeded_demo_equals_the_landing_files(tmp_path: Path, postgres_url: str) -> None:
    # The same demo through the database and through the files must give the same current sales.
    start, end = date(2024, 1, 1), date(2024, 2, 15)
    generate(DemoConfig(customers=150, seed=11, start=start, end=end), tmp_path, report=lambda _: None)
    seed_shop_database(tmp_path / "landing", postgres_url, start, end, BERLIN)
    from_files, from_database = duckdb.connect(), duckdb.connect()
    for contract in SALES_SOURCES:
        days = [start + timedelta(days=i) for i in range((end - start).days)]
        files = [read_landing_file(contract, contract.file_for(tmp_path / "landing", d), d) for d in days]
        load_window(from_files, contract, files, start, end, KEY)
        batches = extract_window(postgres_url, contract, start, end, BERLIN, initial=True)
        result = load_window(from_database, contract, batches, start, end, KEY)
        assert result.rows_read == result.rows_loaded + result.rows_quarantined
        assert result.rows_quarantined == 0  # a typed database only holds values of their type
        expected = current_versions(from_files, contract)
        assert len(expected) > 0
        assert current_versions(from_database, contract) == expected, contract.raw_table


def test_daylight_saving_timestamps_land_in_their_local_day(postgres_url: str) -> None:
    create_shop_tables(postgres_url)
    # Berlin moves to summer time at 2025-03-30 02:00 (UTC+1 -> UTC+2) and back at 2025-10-26 03:00.
    insert_order(postgres_url, "O-before-midnight", "2025-03-29 23:59:59+01")
    insert_order(postgres_url, "O-after-midnight", "2025-03-29 23:30:00+00")  # 00:30 local, Mar 30
    insert_order(postgres_url, "O-summer-late", "2025-03-30 21:59:59+00")  # 23:59:59 local, Mar 30
    insert_order(postgres_url, "O-summer-next", "2025-03-30 22:00:00+00")  # 00:00 local, Mar 31
    insert_order(postgres_url, "O-repeated-hour", "2025-10-26 00:30:00+00")  # 02:30 local, first pass
    insert_order(postgres_url, "O-repeated-hour-2", "2025-10-26 01:30:00+00")  # 02:30 local, again
    insert_order(postgres_url, "O-winter-late", "2025-10-26 22:59:59+00")  # 23:59:59 local, Oct 26
    batches = extract_window(postgres_url, ORDERS, date(2025, 3, 29), date(2025, 4, 1), BERLIN)
    batches += extract_window(postgres_url, ORDERS, date(2025, 10, 26), date(2025, 10, 27), BERLIN)
    by_day = {b.export_date: (b.columns["order_id"], b.columns["updated_at"]) for b in batches}
    assert by_day == {
        date(2025, 3, 29): (["O-before-midnight"], ["2025-03-29 23:59:59.000000"]),
        date(2025, 3, 30): (
            ["O-after-midnight", "O-summer-late"],
            ["2025-03-30 00:30:00.000000", "2025-03-30 23:59:59.000000"],
        ),
        date(2025, 3, 31): (["O-summer-next"], ["2025-03-31 00:00:00.000000"]),
        date(2025, 10, 26): (
            ["O-repeated-hour", "O-repeated-hour-2", "O-winter-late"],
            ["2025-10-26 02:30:00.000000", "2025-10-26 02:30:00.000000", "2025-10-26 23:59:59.000000"],
        ),
    }


def materialize_orders(
    url: str, warehouse: Path, day: str, lookback_days: int = 2, attempts: int = 5
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [build_shop_database_asset(ORDERS, CALENDAR_START)],
        partition_key=day,
        resources={
            "shop_database": ShopDatabaseResource(
                url=url,
                timezone=BERLIN,
                lookback_days=lookback_days,
                connect_attempts=attempts,
                retry_base_seconds=0.01,
            ),
            "warehouse": WarehouseResource(path=str(warehouse)),
            "quarantine_gate": QuarantineGateResource(max_share=0.02),
        },
        raise_on_error=False,
    )


def test_late_commit_is_picked_up_by_the_lookback_without_duplicates(
    tmp_path: Path, postgres_url: str
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    create_shop_tables(postgres_url)
    insert_order(postgres_url, "O1", "2025-05-10 09:00:00+02")
    assert materialize_orders(postgres_url, warehouse, "2025-05-10").success
    # Stamped on the 10th but committed after the 10th was extracted: the 11th's run must pick it up.
    insert_order(postgres_url, "O2-late", "2025-05-10 23:50:00+02")
    insert_order(postgres_url, "O3", "2025-05-11 08:00:00+02")
    first = materialize_orders(postgres_url, warehouse, "2025-05-11")
    assert first.success
    with duckdb.connect(str(warehouse)) as con:
        rows = con.execute("select order_id, _export_date from raw.sales_orders order by order_id").fetchall()
        assert rows == [("O1", date(2025, 5, 10)), ("O2-late", date(2025, 5, 10)), ("O3", date(2025, 5, 11))]
        before_rerun = raw_rows(con)
    metadata = first.asset_materializations_for_node("raw__sales_orders")[0].metadata
    assert metadata["window"].value == "[2025-05-09, 2025-05-12)"  # the lookback widened the window
    assert (metadata["rows_read"].value, metadata["rows_loaded"].value) == (3, 3)
    assert metadata["watermark"].value == "2025-05-11 08:00:00.000000"  # newest updated_at, local time
    # Re-running either day changes nothing.
    assert materialize_orders(postgres_url, warehouse, "2025-05-11").success
    assert materialize_orders(postgres_url, warehouse, "2025-05-10").success
    with duckdb.connect(str(warehouse)) as con:
        assert raw_rows(con) == before_rerun


def test_a_row_updated_after_the_window_keeps_its_earlier_version(tmp_path: Path, postgres_url: str) -> None:
    # The run for the 4th re-reads the 1st..4th; O3, loaded on the 3rd, was updated again just after the
    # 4th ended, so the extract no longer has it there. Its version of the 3rd must stay until the 5th loads.
    warehouse = tmp_path / "warehouse.duckdb"
    create_shop_tables(postgres_url)
    insert_order(postgres_url, "O3", "2025-03-03 10:00:00+01")
    assert materialize_orders(postgres_url, warehouse, "2025-03-03", lookback_days=3).success
    with psycopg.connect(postgres_url) as connection:
        connection.execute("update shop.orders set updated_at = '2025-03-05 00:10:00+01', order_total = 11")
    assert materialize_orders(postgres_url, warehouse, "2025-03-04", lookback_days=3).success
    with duckdb.connect(str(warehouse)) as con:
        assert con.execute("select order_id, order_total, _export_date from raw.sales_orders").fetchall() == [
            ("O3", Decimal("10.00"), date(2025, 3, 3))
        ]
    assert materialize_orders(postgres_url, warehouse, "2025-03-05", lookback_days=3).success
    with duckdb.connect(str(warehouse)) as con:
        # the 5th's run re-reads the 3rd too: the key's new version replaces the old one, never beside it
        assert con.execute("select order_id, order_total, _export_date from raw.sales_orders").fetchall() == [
            ("O3", Decimal("11.00"), date(2025, 3, 5))
        ]


def test_timestamp_without_time_zone_is_read_as_local_time(postgres_url: str) -> None:
    # Some shops store wall-clock `timestamp`s: they are local times, neither shifted nor moved a day.
    create_shop_tables(postgres_url)
    with psycopg.connect(postgres_url) as connection:
        connection.execute(
            "alter table shop.orders alter column updated_at type timestamp, alter column ordered_at type timestamp"
        )
        for order_id, local in [("O-early", "2025-03-05 00:30:00"), ("O-late", "2025-03-05 23:30:00")]:
            connection.execute(
                "insert into shop.orders (order_id, channel, ordered_at, currency, order_total, updated_at)"
                " values (%s, 'web', %s, 'EUR', 1, %s)",
                [order_id, local, local],
            )
    batches = extract_window(postgres_url, ORDERS, date(2025, 3, 4), date(2025, 3, 7), BERLIN)
    by_day = {b.export_date: b.columns["updated_at"] for b in batches}
    assert by_day == {
        date(2025, 3, 4): [],
        date(2025, 3, 5): ["2025-03-05 00:30:00.000000", "2025-03-05 23:30:00.000000"],
        date(2025, 3, 6): [],
    }


def test_unreachable_database_fails_after_retries_without_writing(tmp_path: Path, postgres_url: str) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    create_shop_tables(postgres_url)
    insert_order(postgres_url, "O1", "2025-05-10 09:00:00+02")
    assert materialize_orders(postgres_url, warehouse, "2025-05-10").success
    with duckdb.connect(str(warehouse)) as con:
        before = raw_rows(con)
    # Port 1 refuses connections: three attempts, then a failure that names the database, not the user.
    down = "postgresql://secret_user:secret_password@127.0.0.1:1/shop"
    result = materialize_orders(down, warehouse, "2025-05-10", attempts=3)
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    messages = []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    assert any(
        m.startswith(
            "sources.shop_database.ShopDatabaseError: shop database postgresql://127.0.0.1:1/shop "
            "unreachable after 3 attempts"
        )
        for m in messages
    ), messages
    assert not any("secret" in m for m in messages)
    with duckdb.connect(str(warehouse)) as con:
        assert raw_rows(con) == before  # the previous good load is intact


def test_retries_back_off_exponentially() -> None:
    waits: list[float] = []
    with pytest.raises(ShopDatabaseError, match="unreachable after 4 attempts over 7s"):
        extract_window(
            "postgresql://postgres@127.0.0.1:1/shop",
            ORDERS,
            date(2025, 5, 10),
            date(2025, 5, 11),
            BERLIN,
            retry=RetryPolicy(attempts=4, base_delay_seconds=1.0),
            sleep=waits.append,
        )
    assert waits == [1.0, 2.0, 4.0]


def test_missing_required_column_fails_before_anything_is_written(postgres_url: str) -> None:
    create_shop_tables(postgres_url)
    with psycopg.connect(postgres_url) as connection:
        connection.execute("alter table shop.orders drop column order_total, drop column updated_at")
    with pytest.raises(
        ShopDatabaseError, match=r"shop\.orders: required columns missing: order_total, updated_at"
    ):
        extract_window(postgres_url, ORDERS, date(2025, 5, 10), date(2025, 5, 11), BERLIN)


def test_added_column_is_recorded_and_a_value_that_does_not_fit_is_quarantined(postgres_url: str) -> None:
    create_shop_tables(postgres_url)
    with psycopg.connect(postgres_url) as connection:
        # The shop adds a column and widens the amount's scale: 12.345 is no longer a value in cents.
        connection.execute("alter table shop.orders add column coupon_code text, drop column store_id")
        connection.execute("alter table shop.orders alter column order_total type numeric")
    insert_order(postgres_url, "O1", "2025-05-10 09:00:00+02", total="12.50")
    insert_order(postgres_url, "O2", "2025-05-10 10:00:00+02", total="12.345")
    batches = extract_window(postgres_url, ORDERS, date(2025, 5, 10), date(2025, 5, 11), BERLIN)
    assert batches[0].schema_changes == {"added": ["coupon_code"], "missing": ["store_id"]}
    con = duckdb.connect()
    result = load_window(con, ORDERS, batches, date(2025, 5, 10), date(2025, 5, 11), KEY)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    ((line, raw, reason),) = con.execute(
        "select line_number, raw_record, reason from raw.quarantine"
    ).fetchall()
    assert line == 2 and '"order_id": "O2"' in raw
    assert reason == "field order_total: '12.345' is not a valid DECIMAL(12,2)"
    # Loading the extract again by key (as the assets do) replaces both the row and the quarantined one.
    for _ in range(2):
        again = load_window(con, ORDERS, batches, date(2025, 5, 10), date(2025, 5, 11), KEY, Replace.KEYS)
        assert (again.rows_read, again.rows_loaded, again.rows_quarantined) == (2, 1, 1)
    assert con.execute("select count(*) from raw.sales_orders").fetchone() == (1,)
    assert con.execute("select count(*) from raw.quarantine").fetchone() == (1,)


def test_definitions_extract_sales_from_the_database_when_its_url_is_set(postgres_url: str) -> None:
    # A separate interpreter: which assets exist is decided when the code location loads.
    probe = (
        "from orchestration.definitions import defs\n"
        "import dagster as dg\n"
        "dg.Definitions.validate_loadable(defs)\n"
        "graph = defs.resolve_asset_graph()\n"
        "for key in sorted(graph.get_all_asset_keys()):\n"
        "    if key.path[0] == 'raw': print(key.path[1], sorted(graph.get(key).kinds))\n"
    )
    env = {
        "CLIENTELE_SHOP_DATABASE_URL": postgres_url,
        "CLIENTELE_CONFIG": str(DEMO_CONFIG_PATH),
        "PATH": "/usr/bin:/bin",
    }
    output = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout
    kinds = dict(line.split(" ", 1) for line in output.splitlines())
    assert kinds["sales_orders"] == "['duckdb', 'postgres']"
    assert kinds["crm_contacts"] == "['duckdb', 'jsonl']"
