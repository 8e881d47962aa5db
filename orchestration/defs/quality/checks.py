"""Great Expectations suites as blocking Dagster asset checks.

GX validates a pandas copy of the table: its SQL data source gives wrong results on DuckDB. A check
whose data breaks an expectation fails (and, being blocking, stops what is downstream in the run); a
check where GX itself raised errors out instead, so a GX problem is never reported as bad data.
Metadata carries expectation names and counts only, never values, so no PII can leak into it. The
vocabularies the suites check are the deployment's (`currency`, `vocabulary` in its configuration).
"""

from __future__ import annotations

import dagster as dg

from expectations.runner import validate_frame
from expectations.suites import GateVocabulary, TableSuite, table_suites
from orchestration.lib.deployment import DEPLOYMENT
from orchestration.lib.scoring import ScoringResource
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource

SUITES = table_suites(
    GateVocabulary(
        currencies=DEPLOYMENT.currency.accepted_codes,
        channels=DEPLOYMENT.vocabulary.channels,
        regions=DEPLOYMENT.vocabulary.regions,
        age_bands=DEPLOYMENT.vocabulary.age_bands,
        loyalty_tiers=DEPLOYMENT.vocabulary.loyalty_tiers,
    )
)

# asset key -> (table, whether the gate judges only the run's scoring date: model outputs keep every date)
GATED_TABLES: dict[dg.AssetKey, tuple[str, bool]] = {
    dg.AssetKey(["marts", "dim_customers"]): ("marts.dim_customers", False),
    dg.AssetKey(["marts", "fct_orders"]): ("marts.fct_orders", False),
    dg.AssetKey(["ml", "customer_churn_scores"]): ("ml.customer_churn_scores", True),
    dg.AssetKey(["ml", "customer_clv"]): ("ml.customer_clv", True),
}


def build_expectations_check(
    asset_key: dg.AssetKey, table: str, suite: TableSuite, per_scoring_date: bool
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset_key,
        name=f"great_expectations_{suite.table}",
        description=f"Great Expectations suite `{suite.table}` (expectations/suites.py) over {table}"
        + (", the run's scoring date." if per_scoring_date else "."),
        blocking=True,
        pool=WAREHOUSE_POOL,
    )
    def expectations_check(warehouse: WarehouseResource, scoring: ScoringResource) -> dg.AssetCheckResult:
        if per_scoring_date:
            scoring_date = scoring.resolve(warehouse)
            rows = warehouse.read_frame(f"select * from {table} where scoring_date = ?", [scoring_date])
            if rows.empty:  # the model wrote nothing; its own check says why, and nothing new is published
                return dg.AssetCheckResult(
                    passed=True, metadata={"note": f"no scores for {scoring_date} to judge"}
                )
        else:
            rows = warehouse.read_frame(f"select * from {table}")
        report = validate_frame(rows, suite)
        if report.has_errors:
            raise dg.Failure(
                description=f"Great Expectations raised while validating {table}; the data was not judged.",
                metadata=report.to_metadata(),
            )
        return dg.AssetCheckResult(passed=report.success, metadata=report.to_metadata())

    return expectations_check


expectations_checks = [
    build_expectations_check(key, table, SUITES[table.split(".")[-1]], per_date)
    for key, (table, per_date) in GATED_TABLES.items()
]
