"""The published copy carries what dbt knows: descriptions as comments, NOT NULL where a check guarantees
it, and the business time zone on timestamps (orchestration/lib/publish.py).

The manifest tests read the real `dbt_project/target/manifest.json` (`make manifest`); the publish
tests build a small warehouse with tables named like the real ones and open the copy as a BI tool would.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.lib.dbt import dbt_project
from orchestration.lib.publish import (
    ColumnDocs,
    PublishedTable,
    TableDocs,
    column_comment,
    publish_tables,
    table_docs_from_manifest,
    with_not_null,
)

TIMEZONE = "America/New_York"  # not the demo's zone, so a comment can only have it from the argument


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    path = Path(dbt_project.manifest_path)
    if not path.is_file():
        pytest.fail(f"no dbt manifest at {path}: run `make manifest` (dbt parse) first", pytrace=False)
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


@pytest.fixture(scope="module")
def real_docs(manifest: dict[str, Any]) -> dict[str, TableDocs]:
    return table_docs_from_manifest(manifest)


# --- reading the manifest ---------------------------------------------------------------------------


def test_fct_orders_has_its_description_and_tested_keys_never_null(
    real_docs: Mapping[str, TableDocs],
) -> None:
    orders = real_docs["marts.fct_orders"]
    assert orders.description.startswith("One row per order")
    assert orders.columns["order_id"].not_null and orders.columns["customer_id"].not_null
    assert orders.columns["customer_id"].description
    # store_id is null for web orders: no test says otherwise, so no constraint may claim it.
    assert not orders.columns["store_id"].not_null


def test_customer_360_documents_every_column(real_docs: Mapping[str, TableDocs]) -> None:
    customer_360 = real_docs["bi.customer_360"]
    assert customer_360.description
    assert len(customer_360.columns) > 20
    assert [name for name, column in customer_360.columns.items() if not column.description] == []
    assert customer_360.columns["customer_id"].not_null


def test_a_conditional_not_null_test_guarantees_nothing(real_docs: Mapping[str, TableDocs]) -> None:
    # dim_customers.first_seen_at is tested `where: not is_unknown_customer`; the unknown customer's row
    # may be null, and a NOT NULL built from that test would make the publish fail on it.
    assert not real_docs["marts.dim_customers"].columns["first_seen_at"].not_null
    assert real_docs["marts.dim_customers"].columns["is_unknown_customer"].not_null


def test_ml_scores_are_documented_from_the_dbt_sources(real_docs: Mapping[str, TableDocs]) -> None:
    churn = real_docs["ml.customer_churn_scores"]
    assert churn.description.startswith("Churn probability")
    assert churn.columns["risk_band"].description
    assert real_docs["ml.customer_clv"].columns["clv_decile"].description


def test_only_guarantees_dbt_enforces_count_as_not_null() -> None:
    def test_node(column: str, **config: Any) -> dict[str, Any]:
        return {
            "resource_type": "test",
            "unique_id": f"test.p.not_null_{column}_{len(config)}",
            "attached_node": "model.p.orders",
            "column_name": column,
            "test_metadata": {"name": "not_null"},
            "config": {"enabled": True, "severity": "ERROR", "where": None, **config},
        }

    def model(name: str, enforced: bool, constraint_column: str) -> dict[str, Any]:
        return {
            "resource_type": "model",
            "unique_id": f"model.p.{name}",
            "schema": "marts",
            "alias": name,
            "description": "Orders.\n  Two lines.\n",
            "config": {"contract": {"enforced": enforced}},
            "columns": {
                constraint_column: {"description": "", "constraints": [{"type": "not_null"}]},
                "amount": {"description": "Amount."},
            },
            "constraints": [{"type": "not_null", "columns": ["Amount"]}] if enforced else [],
        }

    manifest = {
        "nodes": {
            "model.p.orders": model("orders", True, "order_id"),
            "model.p.drafts": model("drafts", False, "draft_id"),  # a contract not enforced is not applied
            **{
                n["unique_id"]: n
                for n in [
                    test_node("tested_only"),  # tested but not in the YAML's columns: still constrained
                    test_node("warned", severity="warn"),  # a warning lets nulls through
                    test_node("filtered", where="status = 'paid'"),
                ]
            },
        },
        "sources": {},
    }
    docs = table_docs_from_manifest(manifest)
    orders = docs["marts.orders"]
    assert orders.description == "Orders. Two lines."
    assert {name for name, column in orders.columns.items() if column.not_null} == {
        "order_id",
        "amount",
        "tested_only",
    }
    assert not any(column.not_null for column in docs["marts.drafts"].columns.values())


def test_with_not_null_adds_the_gates_columns_without_losing_descriptions() -> None:
    docs = {"ml.scores": TableDocs("Scores.", {"customer_id": ColumnDocs("Customer.")})}
    merged = with_not_null(docs, {"ml.scores": ["Customer_ID", "risk_band"], "ml.other": ["id"]})
    assert merged["ml.scores"].columns["customer_id"] == ColumnDocs("Customer.", not_null=True)
    assert merged["ml.scores"].columns["risk_band"] == ColumnDocs("", not_null=True)
    assert merged["ml.other"] == TableDocs("", {"id": ColumnDocs("", not_null=True)})
    assert docs["ml.scores"].columns["customer_id"].not_null is False  # the input is left as it was


def test_only_timestamps_state_the_time_zone() -> None:
    assert (
        column_comment("Order time.", "TIMESTAMP", "Europe/Berlin")
        == "Order time. (local time, Europe/Berlin)"
    )
    assert column_comment("", "TIMESTAMP", "Europe/Berlin") == "(local time, Europe/Berlin)"
    assert column_comment("Order day.", "DATE", "Europe/Berlin") == "Order day."
    # An instant carries its own zone; calling it local time would be wrong.
    assert column_comment("Logged.", "TIMESTAMP WITH TIME ZONE", "Europe/Berlin") == "Logged."
    assert column_comment("", "VARCHAR", "Europe/Berlin") == ""


def test_the_score_tables_not_null_columns_come_from_their_quality_gates() -> None:
    from orchestration.defs.serving.assets import not_null_by_quality_gates

    gates = not_null_by_quality_gates()
    assert gates["ml.customer_churn_scores"] == {
        "customer_id",
        "churn_probability",
        "horizon_days",
        "risk_band",
        "model_version",
    }
    assert gates["ml.customer_clv"] == {"customer_id", "predicted_revenue", "horizon_days", "clv_decile"}


# --- publishing -------------------------------------------------------------------------------------


def _small_warehouse(path: Path) -> None:
    """Tables named like the real ones (a timestamp, a date, a null store), and one dbt does not know."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema bi; create schema ml")
        con.execute(
            "create table marts.fct_orders as select * from (values "
            "('O1', 'C1', 'web', null, timestamp '2025-03-01 10:00', date '2025-03-01', 120.50), "
            "('O2', 'C2', 'store', 'S1', timestamp '2025-03-02 18:30', date '2025-03-02', 80.00)) "
            "t(order_id, customer_id, channel, store_id, ordered_at, order_date, net_amount)"
        )
        con.execute(
            "create table bi.customer_360 as select * from (values ('C1', 'active'), ('C2', 'new')) "
            "t(customer_id, lifecycle_segment)"
        )
        con.execute(
            "create table ml.customer_churn_scores as select * from (values "
            "('C1', date '2025-04-01', 90, 0.2, 'low', 'v1'), ('C2', date '2025-04-01', 90, 0.8, 'high', 'v1')) "
            "t(customer_id, scoring_date, horizon_days, churn_probability, risk_band, model_version)"
        )
        con.execute(
            "create table marts.scratch_notes as select 1 as id, timestamp '2025-01-01 00:00' as noted_at"
        )


@pytest.fixture(scope="module")
def publication(
    tmp_path_factory: pytest.TempPathFactory, real_docs: Mapping[str, TableDocs]
) -> tuple[Path, Path, dict[str, PublishedTable]]:
    """A small warehouse (real table names, an undocumented table, a declared-not-null column holding a
    null) published with the real docs plus the gates' columns for the scores."""
    root = tmp_path_factory.mktemp("publish")
    warehouse = root / "warehouse.duckdb"
    _small_warehouse(warehouse)
    docs = with_not_null(
        real_docs,
        {
            "ml.customer_churn_scores": ["customer_id", "churn_probability", "risk_band"],
            "marts.fct_orders": ["store_id"],  # a wrong guarantee: O1 has no store
        },
    )
    tables = ["bi.customer_360", "marts.fct_orders", "marts.scratch_notes", "ml.customer_churn_scores"]
    serving, exports = root / "serving" / "warehouse.duckdb", root / "exports"
    published = publish_tables(warehouse, serving, exports, tables, docs=docs, timezone=TIMEZONE)
    return serving, exports, {t.name: t for t in published}


def _catalog(serving: Path) -> tuple[dict[str, str | None], dict[tuple[str, str], tuple[str | None, bool]]]:
    """(table -> comment, (table, column) -> (comment, is_nullable)), read as a BI tool would."""
    with duckdb.connect(str(serving), read_only=True) as con:
        tables = dict(
            con.execute("select schema_name || '.' || table_name, comment from duckdb_tables()").fetchall()
        )
        columns = {
            (table, column): (comment, nullable)
            for table, column, comment, nullable in con.execute(
                "select schema_name || '.' || table_name, column_name, comment, is_nullable "
                "from duckdb_columns() where schema_name in ('marts', 'bi', 'ml')"
            ).fetchall()
        }
    return tables, columns


def test_the_copy_carries_table_and_column_descriptions(
    publication: tuple[Path, Path, dict[str, PublishedTable]], real_docs: Mapping[str, TableDocs]
) -> None:
    serving, _, published = publication
    tables, columns = _catalog(serving)
    assert tables["marts.fct_orders"] == real_docs["marts.fct_orders"].description
    assert tables["ml.customer_churn_scores"] == real_docs["ml.customer_churn_scores"].description
    assert columns[("bi.customer_360", "lifecycle_segment")][0] == (
        real_docs["bi.customer_360"].columns["lifecycle_segment"].description
    )
    assert columns[("ml.customer_churn_scores", "risk_band")][0]
    # Undocumented in dbt: published all the same, without a comment, and reported.
    assert tables["marts.scratch_notes"] is None
    assert columns[("marts.scratch_notes", "id")][0] is None
    assert [name for name, t in published.items() if not t.described] == ["marts.scratch_notes"]


def test_every_timestamp_comment_ends_with_the_time_zone(
    publication: tuple[Path, Path, dict[str, PublishedTable]],
) -> None:
    serving, _, _ = publication
    _, columns = _catalog(serving)
    ordered_at = columns[("marts.fct_orders", "ordered_at")][0]
    assert ordered_at is not None and len(ordered_at) > len(f" (local time, {TIMEZONE})")
    assert ordered_at.endswith(f" (local time, {TIMEZONE})")
    assert columns[("marts.scratch_notes", "noted_at")][0] == f"(local time, {TIMEZONE})"
    order_date = columns[("marts.fct_orders", "order_date")][0]
    assert order_date and "local time" not in order_date


def test_guaranteed_columns_are_not_null_and_the_constraint_holds(
    publication: tuple[Path, Path, dict[str, PublishedTable]], tmp_path: Path
) -> None:
    serving, _, published = publication
    _, columns = _catalog(serving)
    assert columns[("marts.fct_orders", "customer_id")][1] is False
    assert columns[("ml.customer_churn_scores", "risk_band")][1] is False
    assert columns[("ml.customer_churn_scores", "scoring_date")][1] is True  # no check says so
    # A declared guarantee the rows contradict is published nullable and reported, never a failed publish.
    assert columns[("marts.fct_orders", "store_id")][1] is True
    assert published["marts.fct_orders"].not_null_contradicted == ("store_id",)
    # The constraint is real: a scratch copy refuses a null (the published file itself is never written).
    scratch = tmp_path / "scratch.duckdb"
    shutil.copy(serving, scratch)
    with duckdb.connect(str(scratch)) as con, pytest.raises(duckdb.ConstraintException):
        con.execute("insert into bi.customer_360 values (null, 'new')")


def test_the_parquet_exports_keep_the_rows_and_carry_the_descriptions(
    publication: tuple[Path, Path, dict[str, PublishedTable]],
) -> None:
    _, exports, published = publication
    orders = exports / "marts__fct_orders.parquet"
    assert published["marts.fct_orders"].parquet_path == orders
    assert duckdb.sql(f"select order_id from '{orders}' order by 1").fetchall() == [("O1",), ("O2",)]
    metadata = {
        key.decode(): value.decode()
        for key, value in duckdb.sql(f"select key, value from parquet_kv_metadata('{orders}')").fetchall()
    }
    assert metadata["description"].startswith("One row per order")
    assert json.loads(metadata["columns"])["ordered_at"].endswith(f"(local time, {TIMEZONE})")
    assert sorted(p.name for p in exports.iterdir()) == [
        "bi__customer_360.parquet",
        "marts__fct_orders.parquet",
        "marts__scratch_notes.parquet",
        "ml__customer_churn_scores.parquet",
    ]


def test_the_asset_publishes_in_the_deployments_zone_and_reports_undocumented_tables(tmp_path: Path) -> None:
    import dagster as dg

    from orchestration.defs.serving.assets import ServingResource, bi_warehouse
    from orchestration.lib.deployment import DEPLOYMENT
    from orchestration.lib.warehouse import WarehouseResource

    _small_warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving" / "warehouse.duckdb"
    resources = {
        "warehouse": WarehouseResource(path=str(tmp_path / "warehouse.duckdb")),
        "serving": ServingResource(serving_path=str(serving), exports_dir=str(tmp_path / "exports")),
    }
    result = dg.materialize([bi_warehouse], resources=resources)
    metadata = result.asset_materializations_for_node("serving__bi_warehouse")[0].metadata
    assert metadata["tables_without_description"].value == ["marts.scratch_notes"]
    assert "not_null_contradicted" not in metadata
    _, columns = _catalog(serving)
    zone = DEPLOYMENT.calendar.timezone
    assert (columns[("marts.fct_orders", "ordered_at")][0] or "").endswith(f"(local time, {zone})")
    assert columns[("ml.customer_churn_scores", "model_version")][1] is False  # from the churn gate
