"""Great Expectations suites as blocking Dagster asset checks.

GX validates a pandas copy of the table: its SQL data source gives wrong results on DuckDB. A check
whose data breaks an expectation fails (and, being blocking, stops what is downstream in the run); a
check where GX itself raised errors out instead, so a GX problem is never reported as bad data.
Metadata carries expectation names and counts only, never values, so no PII can leak into it.
"""

from __future__ import annotations

import dagster as dg

from expectations.runner import validate_frame
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource


def _latest_scoring_date(table: str) -> str:
    """Model outputs keep every scoring date; the gate judges the one just written."""
    return f"select * from {table} where scoring_date = (select max(scoring_date) from {table})"


# asset key -> (table, the query whose rows the suite of the table's name validates)
GATED_TABLES: dict[dg.AssetKey, tuple[str, str]] = {
    dg.AssetKey(["marts", "dim_customers"]): ("marts.dim_customers", "select * from marts.dim_customers"),
    dg.AssetKey(["marts", "fct_orders"]): ("marts.fct_orders", "select * from marts.fct_orders"),
    dg.AssetKey(["ml", "customer_churn_scores"]): (
        "ml.customer_churn_scores",
        _latest_scoring_date("ml.customer_churn_scores"),
    ),
    dg.AssetKey(["ml", "customer_clv"]): ("ml.customer_clv", _latest_scoring_date("ml.customer_clv")),
}


def build_expectations_check(asset_key: dg.AssetKey, table: str, rows_sql: str) -> dg.AssetChecksDefinition:
    suite = table.split(".")[-1]

    @dg.asset_check(
        asset=asset_key,
        name=f"great_expectations_{suite}",
        description=f"Great Expectations suite `{suite}` (expectations/suites.py) over {table}.",
        blocking=True,
        pool=WAREHOUSE_POOL,
    )
    def expectations_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        report = validate_frame(warehouse.read_frame(rows_sql), suite)
        if report.has_errors:
            raise dg.Failure(
                description=f"Great Expectations raised while validating {table}; the data was not judged.",
                metadata=report.to_metadata(),
            )
        return dg.AssetCheckResult(passed=report.success, metadata=report.to_metadata())

    return expectations_check


expectations_checks = [
    build_expectations_check(key, table, sql) for key, (table, sql) in GATED_TABLES.items()
]
