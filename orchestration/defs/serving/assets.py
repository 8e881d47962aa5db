"""What BI tools read: the customer-360 table joining warehouse and model scores, and the published copy
(`data/serving/warehouse.duckdb` and `data/exports/*.parquet`) of every BI-facing table."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.ml.assets import ml_assets
from orchestration.defs.warehouse.assets import warehouse_marts
from orchestration.lib.dbt import dbt_build, warehouse_dbt_assets
from orchestration.lib.publish import headline_figures, publish_tables
from orchestration.lib.scoring import ScoringResource
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource

# Every table of these schemas is BI-facing (each dbt model in them has an enforced contract); the
# live warehouse's raw, staging and intermediate layers are never published.
PUBLISHED_SCHEMAS = ("marts", "bi", "ml")


@warehouse_dbt_assets("serving_customer_360", "path:models/bi")
def serving_customer_360(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    scoring: ScoringResource,
) -> Iterator[Any]:
    """After the models: it joins their scores as of the scoring date to the golden record and segments."""
    yield from dbt_build(context, dbt, warehouse, {"scoring_date": scoring.resolve(warehouse).isoformat()})


class ServingResource(dg.ConfigurableResource):
    """Where the published copies go; BI tools are pointed here, never at the live warehouse."""

    serving_path: str
    exports_dir: str


@dg.asset(
    key=["serving", "bi_warehouse"],
    description="Atomically replaced copy of the BI-facing tables (DuckDB file and Parquet exports).",
    group_name="serving",
    owners=["team:data-engineering"],
    kinds={"duckdb", "parquet"},
    deps=[*warehouse_marts.keys, *serving_customer_360.keys, *(key for a in ml_assets for key in a.keys)],
    pool=WAREHOUSE_POOL,
)
def bi_warehouse(warehouse: WarehouseResource, serving: ServingResource) -> dg.MaterializeResult:
    schemas = ", ".join(f"'{s}'" for s in PUBLISHED_SCHEMAS)
    tables = warehouse.read_frame(
        "select table_schema || '.' || table_name as name from information_schema.tables "
        f"where table_schema in ({schemas}) and table_type = 'BASE TABLE' order by name"
    )["name"].tolist()
    serving_path = Path(serving.serving_path)
    published = publish_tables(Path(warehouse.path), serving_path, Path(serving.exports_dir), tables)
    return dg.MaterializeResult(
        metadata={
            "serving_path": dg.MetadataValue.path(str(serving_path)),
            "tables": dg.MetadataValue.json({t.name: t.rows for t in published}),
            **headline_figures(serving_path),
        }
    )
