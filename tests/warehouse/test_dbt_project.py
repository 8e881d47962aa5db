"""The dbt project end to end: real dbt on a temporary DuckDB file built from the source contracts.

Two warehouses are built once per module from the hand-made raw rows in `raw_fixture`:
- `full`: every export loaded, then one `dbt build` (models, data tests and unit tests);
- `incremental`: Dagster's path. The first window's exports are loaded, the models upstream of the facts are
  built, then `dbt build --select tag:partitioned` runs over [start, split); the later exports arrive, the
  upstream tables are rebuilt (views read raw live) and the second window [split, end) runs; finally the
  first window is re-run. `fct_orders` is captured after each partition run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from dbt.cli.main import dbtRunner, dbtRunnerResult
from raw_fixture import (
    ALICE_EMAIL_HASH,
    CONTRACTS_BY_TABLE,
    WINDOW_END,
    WINDOW_SPLIT,
    WINDOW_START,
    build_raw_warehouse,
    fixture_rows,
    insert_rows,
)

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
PII_COLUMNS = {c.name for contract in CONTRACTS_BY_TABLE.values() for c in contract.columns if c.pii}
LOAD_METADATA = ["_export_date", "_source_file", "_line_number", "_loaded_at"]

FCT_ORDERS_QUERY = "select * from marts.fct_orders order by order_id"


@dataclass
class Dbt:
    """Runs the real dbt in-process against one warehouse file, with its own target and log folders."""

    target_path: Path

    def __call__(self, warehouse: Path, *args: str) -> dbtRunnerResult:
        os.environ["CLIENTELE_WAREHOUSE_PATH"] = str(warehouse)
        result = dbtRunner().invoke(
            [
                *args,
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


def query(warehouse: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(warehouse))
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def window_vars(start: date, end: date) -> str:
    # unquoted YAML dates, as a hand-typed `--vars` would carry them
    return f"{{min_date: {start.isoformat()}, max_date: {end.isoformat()}}}"


@pytest.fixture(scope="module")
def dbt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dbt]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        env.setenv("CLIENTELE_WAREHOUSE_PATH", "")
        yield Dbt(target_path=tmp_path_factory.mktemp("dbt_target"))


@pytest.fixture(scope="module")
def full(dbt: Dbt, tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("full") / "warehouse.duckdb"
    build_raw_warehouse(str(warehouse))
    dbt(warehouse, "build")
    return warehouse


@pytest.fixture(scope="module")
def incremental(dbt: Dbt, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[Any, ...]]]:
    warehouse = tmp_path_factory.mktemp("incremental") / "warehouse.duckdb"
    rows = fixture_rows()
    build_raw_warehouse(str(warehouse), [r for r in rows if r.export_date < WINDOW_SPLIT])
    dbt(warehouse, "run", "--select", "+tag:partitioned", "--exclude", "tag:partitioned")

    dbt(warehouse, "build", "--select", "tag:partitioned", "--vars", window_vars(WINDOW_START, WINDOW_SPLIT))
    captured = {"first_window": query(warehouse, FCT_ORDERS_QUERY)}

    con = duckdb.connect(str(warehouse))
    try:
        insert_rows(con, [r for r in rows if r.export_date >= WINDOW_SPLIT])
    finally:
        con.close()
    dbt(
        warehouse,
        "run",
        "--select",
        "+tag:partitioned,config.materialized:table",
        "--exclude",
        "tag:partitioned",
    )
    dbt(warehouse, "build", "--select", "tag:partitioned", "--vars", window_vars(WINDOW_SPLIT, WINDOW_END))
    captured["second_window"] = query(warehouse, FCT_ORDERS_QUERY)

    dbt(warehouse, "build", "--select", "tag:partitioned", "--vars", window_vars(WINDOW_START, WINDOW_SPLIT))
    captured["first_window_again"] = query(warehouse, FCT_ORDERS_QUERY)
    return captured


def customer_of(warehouse: Path, source: str, source_id: str) -> str:
    rows = query(
        warehouse,
        "select customer_id from marts.customer_identity_bridge where source = ? and source_id = ?",
        [source, source_id],
    )
    assert len(rows) == 1, (source, source_id, rows)
    return str(rows[0][0])


def order_rows(captured: list[tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    return {row[0]: row for row in captured}


# --- identity -----------------------------------------------------------------------------------------


def test_one_row_per_customer(full: Path) -> None:
    [(rows, customers)] = query(full, "select count(*), count(distinct customer_id) from marts.dim_customers")
    assert rows == customers == 4  # Alice, Bob, Carol, Dave


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


def test_anonymous_store_order_has_no_customer(full: Path) -> None:
    rows = query(full, "select order_id from marts.fct_orders where customer_id is null")
    assert rows == [("O-4",)]


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


# --- orders -------------------------------------------------------------------------------------------


def latest_raw_versions(warehouse: Path, table: str, key: str) -> dict[str, dict[str, Any]]:
    """The latest version per normalised key, picked in Python from every raw row."""
    con = duckdb.connect(str(warehouse))
    try:
        cursor = con.execute(f"select * from raw.{table}")
        names = [d[0] for d in cursor.description]
        records = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        record_key = str(record[key]).strip().upper()
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
    [(lifetime_gross, lifetime_refunds)] = query(
        full, "select sum(lifetime_gross_revenue), sum(lifetime_refunds) from marts.dim_customers"
    )
    [(anonymous_gross,)] = query(
        full, "select sum(gross_amount) from marts.fct_orders where customer_id is null"
    )
    assert lifetime_gross + anonymous_gross == gross
    assert lifetime_refunds == refunded


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


def test_window_runs_equal_a_full_refresh(full: Path, incremental: dict[str, list[tuple[Any, ...]]]) -> None:
    assert incremental["second_window"] == query(full, FCT_ORDERS_QUERY)


def test_rerunning_an_old_window_leaves_fct_orders_identical(
    incremental: dict[str, list[tuple[Any, ...]]],
) -> None:
    assert incremental["first_window_again"] == incremental["second_window"]


def test_later_window_updates_orders_first_seen_earlier(
    full: Path, incremental: dict[str, list[tuple[Any, ...]]]
) -> None:
    before = order_rows(incremental["first_window"])
    after = order_rows(incremental["second_window"])
    # the first window holds only orders exported in it, each as known then
    assert set(before) == {"O-1", "O-2", "O-3", "O-4", "O-6"}
    gross, refunded, customer = 7, 8, 1
    assert before["O-1"][gross] == Decimal("100.00") and after["O-1"][gross] == Decimal("120.00")
    assert before["O-3"][refunded] == 0 and after["O-3"][refunded] == Decimal("30.00")
    # O-6's card was unknown in the first window; once it arrives the order moves to Carol
    assert before["O-6"][customer] != after["O-6"][customer] == customer_of(full, "contacts", "C-4")


# --- features -----------------------------------------------------------------------------------------


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
