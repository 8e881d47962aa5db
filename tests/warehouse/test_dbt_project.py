"""The dbt project end to end: real dbt on a temporary DuckDB file built from the source contracts.

Warehouses built once per module from the hand-made raw rows in `raw_fixture` (the shared fixture plus facts no
customer can be resolved to):
- `full`: every export loaded, then one `dbt build` (models, data tests and unit tests; not `models/bi`, which
  reads the ML step's score tables);
- `incremental`: Dagster's path. The exports arrive in four loads, each followed by the warehouse build as
  Dagster runs it (staging, the incremental facts and the marts): the first weeks in two loads with one export
  day held back, the later exports with the held-back day, then the first weeks loaded again. `fct_orders` is
  captured after each build;
- `refreshed`: a copy of `incremental` rebuilt with `dbt run --full-refresh`: the same raw data, every table
  rebuilt from scratch, to compare with the incremental result table by table.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
import yaml
from dbt_runner import (
    DBT_PROJECT_DIR,
    WITHOUT_ML,
    Dbt,
    all_rows,
    built_warehouse,
    comparable_rows,
    customer_of,
    mart_tables,
    query,
    table_rows,
)
from raw_fixture import (
    ALICE_EMAIL_HASH,
    CONTRACTS_BY_TABLE,
    WINDOW_SPLIT,
    RawRow,
    build_raw_warehouse,
    insert_rows,
)

from orchestration.defs.warehouse.assets import warehouse_models

PII_COLUMNS = {c.name for contract in CONTRACTS_BY_TABLE.values() for c in contract.columns if c.pii}
LOAD_METADATA = ["_export_date", "_source_file", "_line_number", "_loaded_at"]
UNKNOWN_CUSTOMER = "unknown"

FCT_ORDERS_QUERY = "select * from marts.fct_orders order by order_id"
FACTS = ["fct_orders", "fct_order_lines", "fct_refunds", "fct_support_tickets", "fct_marketing_events"]


def dagster_selection(build: dg.AssetsDefinition) -> list[str]:
    """The `--select`/`--exclude` of one of Dagster's dbt builds, so the tests build exactly as it does."""
    tags = build.op.tags
    exclude = tags.get("dagster_dbt/exclude")
    return ["--select", tags["dagster_dbt/select"], *(["--exclude", exclude] if exclude else [])]


# The incremental path's loads: the first weeks in two loads, the held-back (late) export day of the second
# loaded only with the later exports, then the first weeks loaded again (a re-run of old export days)
FIRST_LOAD_SPLIT = date(2024, 1, 25)
LATE_EXPORT_DATE = date(2024, 2, 5)
LOADS = [datetime(2030, 1, 1, hour) for hour in (1, 2, 3, 4)]


@pytest.fixture(scope="module")
def full(dbt: Dbt, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_warehouse(dbt, tmp_path_factory.mktemp("full"), "build", *WITHOUT_ML)


@dataclass
class IncrementalBuild:
    warehouse: Path
    fct_orders: dict[str, list[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def incremental(dbt: Dbt, tmp_path_factory: pytest.TempPathFactory) -> IncrementalBuild:
    warehouse = tmp_path_factory.mktemp("incremental") / "warehouse.duckdb"
    rows = all_rows()
    first = [r for r in rows if r.export_date < FIRST_LOAD_SPLIT]
    second = [
        r
        for r in rows
        if FIRST_LOAD_SPLIT <= r.export_date < WINDOW_SPLIT and r.export_date != LATE_EXPORT_DATE
    ]
    later = [r for r in rows if r.export_date >= WINDOW_SPLIT or r.export_date == LATE_EXPORT_DATE]
    build_raw_warehouse(str(warehouse), [])

    def load(batch: list[RawRow], loaded_at: datetime, replace_days: bool = False) -> None:
        con = duckdb.connect(str(warehouse))
        try:
            if replace_days:  # as a raw load does: the export days it brings are replaced whole
                days = sorted({r.export_date for r in batch})
                for table in {r.table for r in batch}:
                    con.execute(
                        f"delete from raw.{table} where _export_date between ? and ?", [days[0], days[-1]]
                    )
            insert_rows(con, batch, loaded_at=loaded_at)
        finally:
            con.close()

    def build() -> list[tuple[Any, ...]]:
        # the warehouse build as Dagster runs it: staging, the incremental facts and the marts in one
        dbt(warehouse, "build", *dagster_selection(warehouse_models))
        return query(warehouse, FCT_ORDERS_QUERY)

    captured = {}
    for name, batch, loaded_at in (("first_load", first, LOADS[0]), ("second_load", second, LOADS[1])):
        load(batch, loaded_at)
        captured[name] = build()
    load(later, LOADS[2])
    captured["later_load"] = build()
    load(first, LOADS[3], replace_days=True)
    captured["first_days_reloaded"] = build()
    return IncrementalBuild(warehouse=warehouse, fct_orders=captured)


@pytest.fixture(scope="module")
def refreshed(dbt: Dbt, incremental: IncrementalBuild, tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("refreshed") / "warehouse.duckdb"
    query(incremental.warehouse, "checkpoint")  # everything in the database file, nothing left in its WAL
    shutil.copyfile(incremental.warehouse, warehouse)
    dbt(warehouse, "run", "--full-refresh", "--select", "path:models", *WITHOUT_ML)
    return warehouse


def order_rows(captured: list[tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    return {row[0]: row for row in captured}


# --- identity -----------------------------------------------------------------------------------------


def test_one_row_per_customer_and_one_for_the_unknown_customer(full: Path) -> None:
    [(rows, customers)] = query(full, "select count(*), count(distinct customer_id) from marts.dim_customers")
    assert rows == customers == 6  # Alice, Bob, Carol, Dave, customer number A-77, and 'unknown'
    assert query(full, "select customer_id from marts.dim_customers where is_unknown_customer") == [
        (UNKNOWN_CUSTOMER,)
    ]


def test_a_customer_number_alone_makes_a_customer(full: Path) -> None:
    # O-11 carries only the shop's customer number A-77 (no accounts export, no channel, no currency):
    # it is a customer of its own, with the deployment's default channel and currency.
    customer = customer_of(full, "customer_accounts", "A-77")
    assert customer != UNKNOWN_CUSTOMER
    assert query(
        full, "select customer_id, channel, currency from marts.fct_orders where order_id = 'O-11'"
    ) == [(customer, "web", "EUR")]
    assert query(
        full,
        "select lifetime_orders, lifetime_net_revenue from marts.dim_customers where customer_id = ?",
        [customer],
    ) == [(1, Decimal("21.50"))]


def test_account_guest_checkout_contacts_and_card_resolve_to_one_customer(full: Path) -> None:
    alice = {
        customer_of(full, "customer_accounts", "A-1"),
        customer_of(full, "guest_email", ALICE_EMAIL_HASH),
        customer_of(full, "contacts", "C-1"),
        customer_of(full, "contacts", "C-2"),  # the duplicate contact
        customer_of(full, "loyalty_members", "L-1"),
    }
    assert len(alice) == 1
    order_customers = dict(query(full, "select order_id, customer_id from marts.fct_orders"))
    assert {order_customers["O-1"], order_customers["O-2"], order_customers["O-7"]} == alice


def test_store_order_follows_loyalty_card_to_its_contact(full: Path) -> None:
    order_customers = dict(query(full, "select order_id, customer_id from marts.fct_orders"))
    assert order_customers["O-3"] == order_customers["O-8"] == customer_of(full, "contacts", "C-3")
    assert order_customers["O-6"] == customer_of(full, "contacts", "C-4")


def test_orders_of_unknown_customers_are_kept(full: Path) -> None:
    # O-4: an anonymous store order; O-10: the loyalty card L-404 is in no card export
    orders = query(
        full,
        "select order_id, gross_amount from marts.fct_orders where customer_id = ? order by order_id",
        [UNKNOWN_CUSTOMER],
    )
    assert orders == [("O-10", Decimal("15.00")), ("O-4", Decimal("40.00"))]
    assert query(full, "select count(*) from marts.fct_orders where customer_id is null") == [(0,)]
    # their lines and refunds follow them; a ticket and an event of an unknown contact are kept too
    assert query(
        full,
        "select order_id from marts.fct_order_lines where customer_id = ? order by 1",
        [UNKNOWN_CUSTOMER],
    ) == [
        ("O-10",),
        ("O-4",),
    ]
    assert query(
        full, "select refund_id from marts.fct_refunds where customer_id = ?", [UNKNOWN_CUSTOMER]
    ) == [("R-2",)]
    assert query(
        full, "select ticket_id from marts.fct_support_tickets where customer_id = ?", [UNKNOWN_CUSTOMER]
    ) == [("T-2",)]
    assert query(
        full, "select event_id from marts.fct_marketing_events where customer_id = ?", [UNKNOWN_CUSTOMER]
    ) == [("E-4",)]
    # the unknown customer has one dim_customers row carrying their money, and no features or history
    [(first_seen_at, lifetime_orders, lifetime_net)] = query(
        full,
        "select first_seen_at, lifetime_orders, lifetime_net_revenue from marts.dim_customers where customer_id = ?",
        [UNKNOWN_CUSTOMER],
    )
    assert (str(first_seen_at), lifetime_orders, lifetime_net) == ("2024-02-05 12:00:00", 2, Decimal("50.00"))
    for table in ["customer_features", "dim_customers_history", "customer_identity_bridge"]:
        assert query(
            full, f"select count(*) from marts.{table} where customer_id = ?", [UNKNOWN_CUSTOMER]
        ) == [(0,)]


def test_records_without_email_link_through_a_shared_phone(full: Path) -> None:
    dave = customer_of(full, "customer_accounts", "A-2")
    assert customer_of(full, "contacts", "C-5") == dave
    rules = dict(
        query(
            full,
            "select source_id, match_rule from marts.customer_identity_bridge where customer_id = ?",
            [dave],
        )
    )
    # no e-mail anywhere: the earliest record (the account) anchors, the contact joins by phone
    assert rules == {"A-2": "own_anchor", "C-5": "phone_hash"}
    [(orders, region)] = query(
        full, "select lifetime_orders, region from marts.dim_customers where customer_id = ?", [dave]
    )
    assert (orders, region) == (2, "capital")


def test_history_recovers_the_attributes_of_a_past_date(full: Path) -> None:
    alice = customer_of(full, "customer_accounts", "A-1")
    as_of = """
        select region, marketing_consent, loyalty_tier from marts.dim_customers_history
        where customer_id = ? and valid_from <= cast(? as timestamp)
            and (valid_to > cast(? as timestamp) or valid_to is null)
    """
    # Alice moved south and withdrew consent on 2024-05-15; on 2024-04-01 she was in the north
    assert query(full, as_of, [alice, "2024-04-01", "2024-04-01"]) == [("north", True, "bronze")]
    assert query(full, as_of, [alice, "2024-06-01", "2024-06-01"]) == [("south", False, "bronze")]
    # the current period is dim_customers' golden record, for every customer
    mismatches = query(
        full,
        """
        select customer_id, region, age_band, acquisition_channel, marketing_consent, loyalty_tier
        from marts.dim_customers_history where is_current
        except
        select customer_id, region, age_band, acquisition_channel, marketing_consent, loyalty_tier
        from marts.dim_customers
        """,
    )
    assert mismatches == []


# --- orders -------------------------------------------------------------------------------------------


def latest_raw_versions(warehouse: Path, table: str, key: str) -> dict[str, dict[str, Any]]:
    """The latest version per normalised key, picked in Python from every raw row."""
    return {k[0]: v for k, v in latest_raw_versions_by(warehouse, table, [key]).items()}


def latest_raw_versions_by(
    warehouse: Path, table: str, keys: list[str]
) -> dict[tuple[str, ...], dict[str, Any]]:
    """The latest version per normalised compound key, picked in Python from every raw row."""
    con = duckdb.connect(str(warehouse))
    try:
        cursor = con.execute(f"select * from raw.{table}")
        names = [d[0] for d in cursor.description]
        records = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    latest: dict[tuple[str, ...], dict[str, Any]] = {}
    for record in records:
        record_key = tuple(str(record[key]).strip().upper() for key in keys)
        rank = (record["updated_at"], record["_export_date"], record["_line_number"])
        current = latest.get(record_key)
        if current is None or rank > (
            current["updated_at"],
            current["_export_date"],
            current["_line_number"],
        ):
            latest[record_key] = record
    return latest


def test_revenue_reconciles_with_latest_raw_versions(full: Path) -> None:
    orders = latest_raw_versions(full, "sales_orders", "order_id")
    refunds = latest_raw_versions(full, "sales_refunds", "refund_id")
    [(count, gross, refunded, net)] = query(
        full,
        "select count(*), sum(gross_amount), sum(refunded_amount), sum(net_amount) from marts.fct_orders",
    )
    assert count == len(orders)
    assert gross == sum(o["order_total"] for o in orders.values())
    assert refunded == sum(r["amount"] for r in refunds.values())
    assert net == gross - refunded
    # the unknown customer's row keeps dim_customers whole: its lifetime figures add up to the facts
    [(lifetime_gross, lifetime_refunds)] = query(
        full, "select sum(lifetime_gross_revenue), sum(lifetime_refunds) from marts.dim_customers"
    )
    assert (lifetime_gross, lifetime_refunds) == (gross, refunded)
    [(refund_facts,)] = query(full, "select sum(refund_amount) from marts.fct_refunds")
    assert refund_facts == refunded
    [(line_facts,)] = query(full, "select sum(line_amount) from marts.fct_order_lines")
    lines = latest_raw_versions_by(full, "sales_order_lines", ["order_id", "line_number"])
    assert line_facts == sum(line["line_amount"] for line in lines.values())


def test_order_takes_its_latest_version_and_late_refund(full: Path) -> None:
    orders = order_rows(query(full, FCT_ORDERS_QUERY))
    columns = [r[0] for r in query(full, "select column_name from (describe marts.fct_orders)")]
    o1 = dict(zip(columns, orders["O-1"], strict=True))
    assert (o1["gross_amount"], o1["line_count"], o1["_export_date"]) == (
        Decimal("120.00"),
        3,
        date(2024, 1, 5),
    )
    o3 = dict(zip(columns, orders["O-3"], strict=True))
    assert (o3["refunded_amount"], o3["net_amount"]) == (Decimal("30.00"), Decimal("50.00"))


def test_incremental_loads_equal_a_full_refresh(incremental: IncrementalBuild, refreshed: Path) -> None:
    # every fact and mart, every row and column: loads in order, a late day loaded after its neighbours,
    # old export days loaded again, each followed by a build, give what a --full-refresh of the same raw
    # data gives
    tables = mart_tables(incremental.warehouse)
    assert set(FACTS) | {"dim_customers", "dim_customers_history", "customer_features"} <= set(tables)
    assert mart_tables(refreshed) == tables
    for table in tables:
        assert table_rows(incremental.warehouse, f"marts.{table}") == table_rows(
            refreshed, f"marts.{table}"
        ), table


def test_full_build_equals_the_incremental_path(full: Path, incremental: IncrementalBuild) -> None:
    # the same rows whether the exports came in one load or four; only when they were loaded differs
    def rows(warehouse: Path, table: str) -> list[tuple[Any, ...]]:
        loaded_at = "exclude (_loaded_at)" if table in FACTS else ""
        return comparable_rows(query(warehouse, f"select * {loaded_at} from marts.{table}"))

    for table in [*FACTS, "dim_customers", "dim_customers_history", "customer_identity_bridge"]:
        assert rows(full, table) == rows(incremental.warehouse, table), table


def test_reloading_old_export_days_changes_nothing_but_their_load_time(incremental: IncrementalBuild) -> None:
    loaded_at = -1  # fct_orders' last column
    before = {k: v[:loaded_at] for k, v in order_rows(incremental.fct_orders["later_load"]).items()}
    after = order_rows(incremental.fct_orders["first_days_reloaded"])
    assert {k: v[:loaded_at] for k, v in after.items()} == before
    # the orders of the reloaded days were rebuilt (their watermark moved), the others were not touched
    assert {k for k, v in after.items() if v[loaded_at] == LOADS[3]} == {"O-1", "O-2"}


def test_a_day_loaded_late_is_caught_by_its_load_time(incremental: IncrementalBuild) -> None:
    # O-4 was exported on a day between the second load's days but loaded only with the later exports: the
    # facts rebuild by when rows were loaded, not by their export day, so no lookback can be too short
    assert "O-4" not in order_rows(incremental.fct_orders["second_load"])
    assert "O-4" in order_rows(incremental.fct_orders["later_load"])


def test_later_loads_update_orders_first_seen_earlier(full: Path, incremental: IncrementalBuild) -> None:
    before = order_rows(incremental.fct_orders["second_load"])
    after = order_rows(incremental.fct_orders["later_load"])
    # the first loads hold only orders exported (and loaded) in them, each as known then
    assert set(order_rows(incremental.fct_orders["first_load"])) == {"O-1", "O-2"}
    assert set(before) == {"O-1", "O-2", "O-3", "O-6"}
    gross, refunded, customer = 7, 8, 1
    assert before["O-1"][gross] == Decimal("100.00") and after["O-1"][gross] == Decimal("120.00")
    assert before["O-3"][refunded] == 0 and after["O-3"][refunded] == Decimal("30.00")
    # O-6's card was unknown in the first windows (unknown customer); once it arrives the order moves to Carol
    assert before["O-6"][customer] == UNKNOWN_CUSTOMER
    assert after["O-6"][customer] == customer_of(full, "contacts", "C-4")


def test_snapshots_are_month_starts_after_90_days_up_to_the_scoring_date(full: Path) -> None:
    dates = [
        d for (d,) in query(full, "select distinct snapshot_date from marts.customer_features order by 1")
    ]
    # first order 2024-01-05 -> +90 days 2024-04-04 -> 2024-05-01; last export 2024-06-15 -> scores 2024-06-16
    assert dates == [date(2024, 5, 1), date(2024, 6, 1), date(2024, 6, 16)]


def test_features_count_only_orders_strictly_before_the_snapshot(full: Path) -> None:
    mismatches = query(
        full,
        """
        select f.customer_id, f.snapshot_date, f.frequency, count(o.order_id) as expected
        from marts.customer_features as f
        left join marts.fct_orders as o
            on o.customer_id = f.customer_id and o.ordered_at < f.snapshot_date
        group by all
        having f.frequency <> count(o.order_id)
        """,
    )
    assert mismatches == []
    alice = customer_of(full, "customer_accounts", "A-1")
    bob = customer_of(full, "contacts", "C-3")
    frequency = {
        (c, d): n
        for c, d, n in query(
            full, "select customer_id, snapshot_date, frequency from marts.customer_features"
        )
    }
    # O-7 at exactly 2024-05-01 00:00:00 is not before that snapshot; O-8 one second earlier is
    assert frequency[(alice, date(2024, 5, 1))] == 2
    assert frequency[(alice, date(2024, 6, 1))] == 3
    assert frequency[(bob, date(2024, 5, 1))] == 2


def test_features_read_attributes_and_events_as_of_the_snapshot(full: Path) -> None:
    alice = customer_of(full, "customer_accounts", "A-1")
    rows = query(
        full,
        """
        select snapshot_date, region, marketing_consent, unsubscribed, loyalty_tier, complaints_365d
        from marts.customer_features where customer_id = ? order by snapshot_date
        """,
        [alice],
    )
    assert rows == [
        (date(2024, 5, 1), "north", True, False, "bronze", 1),
        (date(2024, 6, 1), "south", False, True, "bronze", 1),
        (date(2024, 6, 16), "south", False, True, "bronze", 1),
    ]


def test_features_only_for_customers_first_seen_before_the_snapshot(full: Path) -> None:
    rows = query(
        full,
        """
        select count(*) from marts.customer_features as f
        inner join marts.dim_customers as c on f.customer_id = c.customer_id
        where c.first_seen_at >= f.snapshot_date
        """,
    )
    assert rows == [(0,)]


# --- static guards ------------------------------------------------------------------------------------


def test_sources_declare_every_raw_column_except_pii() -> None:
    sources = yaml.safe_load((DBT_PROJECT_DIR / "models/staging/_raw__sources.yml").read_text())
    [raw] = sources["sources"]
    declared = {t["name"]: [c["name"] for c in t["columns"]] for t in raw["tables"]}
    expected = {
        table: [c.name for c in contract.columns if not c.pii]
        + [f"{c.name}_hash" for c in contract.columns if c.pii]
        + LOAD_METADATA
        for table, contract in CONTRACTS_BY_TABLE.items()
    }
    assert {t: sorted(c) for t, c in declared.items()} == {t: sorted(c) for t, c in expected.items()}


def test_models_never_select_raw_pii_columns() -> None:
    assert {"email", "phone", "guest_email"} <= PII_COLUMNS
    # identifiers only: comments and string literals (e.g. the bridge's source 'guest_email') are skipped
    pattern = re.compile(r"\b(" + "|".join(sorted(PII_COLUMNS)) + r")\b")
    offenders = {
        str(path.relative_to(DBT_PROJECT_DIR)): pattern.findall(re.sub(r"--.*|'[^']*'", "", path.read_text()))
        for path in DBT_PROJECT_DIR.glob("models/**/*.sql")
    }
    assert {path: found for path, found in offenders.items() if found} == {}
    select_star_from_source = re.compile(r"select\s+\*\s+from\s+\{\{\s*source\(", re.IGNORECASE)
    assert [
        p.name
        for p in DBT_PROJECT_DIR.glob("models/**/*.sql")
        if select_star_from_source.search(p.read_text())
    ] == []


def test_no_warehouse_relation_exposes_raw_pii_columns(full: Path) -> None:
    pii = ", ".join(f"'{name}'" for name in sorted(PII_COLUMNS))
    rows = query(
        full,
        "select table_schema, table_name, column_name from information_schema.columns "
        f"where table_schema in ('staging', 'intermediate', 'marts') and column_name in ({pii})",
    )
    assert rows == []


def test_model_and_unit_test_names_fit_postgres_identifiers() -> None:
    # the postgres target names a relation after each model and unit test; Postgres cuts at 63 bytes
    names = [path.stem for path in DBT_PROJECT_DIR.glob("models/**/*.sql")]
    for path in DBT_PROJECT_DIR.glob("models/**/*.yml"):
        names += [test["name"] for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", [])]
    assert [name for name in names if len(name) > 63] == []
