"""dbt models as Dagster assets, split by how they are built.

- `warehouse_staging`: staging and intermediate views, rebuilt whole (cheap; they only define logic).
- `warehouse_facts`: incremental facts, daily partitioned; a run of any partition range is one
  `dbt build` with the window as `--vars` (half-open), so a two-year UI backfill is a single run.
- `warehouse_marts`: the point-in-time feature views and the marts (customers, identity, features,
  KPIs), rebuilt whole from the facts as of the run's scoring date.

The BI model that joins the model scores (`bi.customer_360`) is built after the models, in `serving`.

dbt tests on these models surface as Dagster asset checks.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource
from pydantic import Field

from orchestration.defs.partitions import daily_partitions, single_run_backfill, window_dates
from orchestration.lib.dbt import dbt_build, warehouse_dbt_assets, window_vars
from orchestration.lib.deployment import DEPLOYMENT
from orchestration.lib.scoring import ScoringResource
from orchestration.lib.warehouse import WarehouseResource
from sources.contracts import ALL_SOURCES
from sources.raw_tables import ensure_raw_schema

PARTITIONED = "tag:partitioned"
# The feature views read the run's scoring date, so they are rebuilt with the marts that read them: a
# view built in an earlier run would keep that run's date.
FEATURE_VIEWS = "path:models/intermediate/features"
# Each dbt test must run in the build that makes the last of its models, or it judges yesterday's table.
# dbt's (and dagster-dbt's) eager selection puts a test in every build that selects any of its models, so
# the tests that join a fact to `dim_customers` (tag `facts_to_customers`) are taken out of the facts
# build and named in the marts build, whose models are the marts' tables (the facts are incremental).
FACTS_TO_CUSTOMERS = "tag:facts_to_customers"
MARTS_BUILD = f"{FEATURE_VIEWS} path:models/marts,config.materialized:table {FACTS_TO_CUSTOMERS}"


class FactsConfig(dg.Config):
    """How the facts build reads raw for this run."""

    full_refresh: bool = Field(
        default=False,
        description="Rebuild the facts from all raw history instead of the run's window of export days.",
    )
    lookback_days: int = Field(
        default=DEPLOYMENT.ingestion.late_data_lookback_days,
        ge=0,
        description="Export days before the window read again for late data; at least the shop "
        "database's lookback (ingestion.late_data_lookback_days), whose loads replace those days.",
    )


@warehouse_dbt_assets(
    "warehouse_staging",
    "path:models/staging path:models/intermediate",
    exclude=f"{PARTITIONED} {FEATURE_VIEWS}",
)
def warehouse_staging(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    # A source the deployment does not enable has no asset; its raw table exists, empty, so every
    # staging model reads the same tables whatever the deployment's sources.
    with warehouse.connect() as con:
        ensure_raw_schema(con, ALL_SOURCES)
    yield from dbt_build(context, dbt, warehouse)


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
        yield from dbt_build(context, dbt, warehouse, full_refresh=True)
    else:
        start, end = window_dates(context)
        yield from dbt_build(context, dbt, warehouse, window_vars(start, end, config.lookback_days))


# customer_360's tests wait for its own build, after the models
@warehouse_dbt_assets("warehouse_marts", MARTS_BUILD, exclude="path:models/bi")
def warehouse_marts(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    scoring: ScoringResource,
) -> Iterator[Any]:
    scoring_date = scoring.resolve(warehouse)
    context.log.info(f"marts as of scoring date {scoring_date}")
    yield from dbt_build(context, dbt, warehouse, {"scoring_date": scoring_date.isoformat()})
