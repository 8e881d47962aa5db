"""The warehouse: every dbt model from staging to the marts, as one dbt build after the raw loads.

Staging and intermediate views, the identity table, the incremental facts and the marts (customers,
identity, features, KPIs) are one `dbt build`, so dbt itself orders every model after its parents and
every test after all of its models. The facts are incremental by load time: a build rebuilds exactly the
keys whose raw rows were loaded since its last build, whatever loaded them (a new export day, a
backfill of old days, a re-delivered file), so the warehouse needs no partitions of its own and a date-
range backfill of raw reaches it whole (docs/architecture.md). The BI model that joins the model scores
(`bi.customer_360`) is built after the models, in `serving`.

dbt tests on these models surface as Dagster asset checks.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource
from pydantic import Field

from orchestration.lib.dbt import dbt_build, warehouse_dbt_assets
from orchestration.lib.scoring import ScoringResource
from orchestration.lib.warehouse import WarehouseResource


class WarehouseConfig(dg.Config):
    """How the warehouse build treats the incremental facts for this run."""

    full_refresh: bool = Field(
        default=False,
        description="Rebuild the incremental facts from all raw history instead of what was loaded since "
        "their last build (after a change to their SQL, say). The other models are rebuilt whole anyway.",
    )


# models/bi is built after the models score; its tests (defined under its path) run with it
@warehouse_dbt_assets(
    "warehouse", "path:models/staging path:models/intermediate path:models/marts", exclude="path:models/bi"
)
def warehouse_models(
    context: dg.AssetExecutionContext,
    config: WarehouseConfig,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    scoring: ScoringResource,
) -> Iterator[Any]:
    scoring_date = scoring.resolve(warehouse)
    context.log.info(f"warehouse as of scoring date {scoring_date}")
    yield from dbt_build(
        context, dbt, warehouse, {"scoring_date": scoring_date.isoformat()}, full_refresh=config.full_refresh
    )
