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

# asset key -> warehouse table the suite of the same (table) name validates
GATED_TABLES: dict[dg.AssetKey, str] = {
    dg.AssetKey(["dim_customers"]): "marts.dim_customers",
    dg.AssetKey(["fct_orders"]): "marts.fct_orders",
    dg.AssetKey(["ml", "customer_churn_scores"]): "ml.customer_churn_scores",
    dg.AssetKey(["ml", "customer_clv"]): "ml.customer_clv",
}


def build_expectations_check(asset_key: dg.AssetKey, table: str) -> dg.AssetChecksDefinition:
    suite = table.split(".")[-1]

    @dg.asset_check(
        asset=asset_key,
        name=f"great_expectations_{suite}",
        description=f"Great Expectations suite `{suite}` (expectations/suites.py) over {table}.",
        blocking=True,
        pool=WAREHOUSE_POOL,
    )
    def expectations_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        report = validate_frame(warehouse.read_frame(f"select * from {table}"), suite)
        if report.has_errors:
            raise dg.Failure(
                description=f"Great Expectations raised while validating {table}; the data was not judged.",
                metadata=report.to_metadata(),
            )
        return dg.AssetCheckResult(passed=report.success, metadata=report.to_metadata())

    return expectations_check


quality_checks = [build_expectations_check(key, table) for key, table in GATED_TABLES.items()]
