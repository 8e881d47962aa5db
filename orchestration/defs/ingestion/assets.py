"""One raw asset per landing source: a window of export days replaced in the raw schema in one transaction.

Each asset carries a blocking check on the share of quarantined rows, so a broken export stops the
warehouse from building on it while the rows stay inspectable in `raw.quarantine`.
"""

import json
import os

import dagster as dg

from orchestration.defs.partitions import daily_partitions, days_in, single_run_backfill, window_dates
from orchestration.lib.landing import LandingResource
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource
from sources.contracts import ALL_SOURCES, SourceContract
from sources.pii import pii_key
from sources.raw_tables import load_window

MAX_QUARANTINE_SHARE_ENV = "CLIENTELE_MAX_QUARANTINE_SHARE"
DEFAULT_MAX_QUARANTINE_SHARE = 0.02
QUARANTINE_CHECK = "quarantined_share_within_threshold"


def max_quarantine_share() -> float:
    return float(os.environ.get(MAX_QUARANTINE_SHARE_ENV, DEFAULT_MAX_QUARANTINE_SHARE))


def raw_asset_key(contract: SourceContract) -> dg.AssetKey:
    """Matches the dbt source `raw.<system>_<name>`, so dbt models hang off these assets."""
    return dg.AssetKey(["raw", contract.raw_table])


def build_raw_asset(contract: SourceContract) -> dg.AssetsDefinition:
    key = raw_asset_key(contract)

    @dg.asset(
        key=key,
        description=f"{contract.description} Loaded from {contract.format.value.upper()} landing files.",
        group_name=f"raw_{contract.system}",
        owners=["team:data-engineering"],
        kinds={"duckdb", contract.format.value},
        partitions_def=daily_partitions,
        backfill_policy=single_run_backfill,
        pool=WAREHOUSE_POOL,
        check_specs=[
            dg.AssetCheckSpec(
                QUARANTINE_CHECK,
                asset=key,
                blocking=True,
                description="Fails the load when the quarantined share of rows passes the threshold "
                f"({MAX_QUARANTINE_SHARE_ENV}, default {DEFAULT_MAX_QUARANTINE_SHARE:.0%}).",
            )
        ],
    )
    def raw_source(
        context: dg.AssetExecutionContext, landing: LandingResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        start, end = window_dates(context)
        files = [landing.read(contract, day) for day in days_in(start, end)]
        with warehouse.connect() as con:
            result = load_window(con, contract, files, start, end, pii_key())
        threshold = max_quarantine_share()
        context.log.info(
            f"{result.table} [{start}, {end}): read {result.rows_read}, loaded {result.rows_loaded}, "
            f"quarantined {result.rows_quarantined}"
        )
        return dg.MaterializeResult(
            metadata={
                "window": f"[{start}, {end})",
                "files": result.files,
                "rows_read": result.rows_read,
                "rows_loaded": result.rows_loaded,
                "rows_quarantined": result.rows_quarantined,
                "quarantine_reasons": dg.MetadataValue.json(result.quarantine_reasons),
                "schema_changes": dg.MetadataValue.json(
                    {path: list(cols) for path, cols in result.added_columns.items()}
                ),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=QUARANTINE_CHECK,
                    passed=result.quarantined_share <= threshold,
                    metadata={
                        "quarantined_share": result.quarantined_share,
                        "threshold": threshold,
                        "rows_quarantined": result.rows_quarantined,
                        "reasons": json.dumps(result.quarantine_reasons, sort_keys=True),
                    },
                )
            ],
        )

    return raw_source


raw_assets = [build_raw_asset(contract) for contract in ALL_SOURCES]
