"""dbt models as Dagster assets, split by how they are built.

- `warehouse_staging`: staging and intermediate views, rebuilt whole (cheap; they only define logic).
- `warehouse_facts`: incremental facts, daily partitioned; a run of any partition range is one
  `dbt build` with the window as `--vars` (half-open), so a two-year UI backfill is a single run.
- `warehouse_marts`: marts (customers, identity, features, KPIs) rebuilt whole from the facts.

The BI model that joins the model scores (`bi.customer_360`) is built after the models, in `serving`.

dbt tests on these models surface as Dagster asset checks.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.partitions import daily_partitions, single_run_backfill, window_dates
from orchestration.lib.dbt import dbt_build, warehouse_dbt_assets, window_vars
from orchestration.lib.settings import LATE_DATA_LOOKBACK_DAYS
from orchestration.lib.warehouse import WarehouseResource

PARTITIONED = "tag:partitioned"
# Each dbt test must run in the build that makes the last of its models, or it judges yesterday's table.
# dbt's (and dagster-dbt's) eager selection puts a test in every build that selects any of its models, so
# the tests that join a fact to `dim_customers` (tag `facts_to_customers`) are taken out of the facts
# build and named in the marts build, whose models are the marts' tables (the facts are incremental).
FACTS_TO_CUSTOMERS = "tag:facts_to_customers"
MARTS_BUILD = f"path:models/marts,config.materialized:table {FACTS_TO_CUSTOMERS}"


class FactsConfig(dg.Config):
    """Set `full_refresh` from the launchpad to rebuild the facts from all raw history; `lookback_days`
    re-reads that many export days before the window for late data: at least the shop database's lookback,
    whose loads replace those days (both default to LATE_DATA_LOOKBACK_DAYS)."""

    full_refresh: bool = False
    lookback_days: int = LATE_DATA_LOOKBACK_DAYS


@warehouse_dbt_assets(
    "warehouse_staging", "path:models/staging path:models/intermediate", exclude=PARTITIONED
)
def warehouse_staging(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    yield from dbt_build(context, dbt, warehouse, [])


@warehouse_dbt_assets(
    "warehouse_facts",
    PARTITIONED,
    exclude=FACTS_TO_CUSTOMERS,
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
)
def warehouse_facts(
    context: dg.AssetExecutionContext, config: FactsConfig, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    if config.full_refresh:
        args = ["--full-refresh"]
    else:
        start, end = window_dates(context)
        args = ["--vars", window_vars(start, end, config.lookback_days)]
    yield from dbt_build(context, dbt, warehouse, args)


# customer_360's tests wait for its own build, after the models
@warehouse_dbt_assets("warehouse_marts", MARTS_BUILD, exclude="path:models/bi")
def warehouse_marts(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    yield from dbt_build(context, dbt, warehouse, [])
