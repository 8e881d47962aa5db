"""The published copy BI tools read: `data/serving/warehouse.duckdb` and `data/exports/*.parquet`."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration.lib.dbt import mart_asset_key
from orchestration.lib.publish import headline_figures, publish_tables
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource

BI_TABLES = [
    "marts.dim_customers",
    "marts.fct_orders",
    "ml.customer_churn_scores",
    "ml.customer_clv",
]


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
    deps=[
        mart_asset_key("dim_customers"),
        mart_asset_key("fct_orders"),
        dg.AssetKey(["ml", "customer_churn_scores"]),
        dg.AssetKey(["ml", "customer_clv"]),
    ],
    pool=WAREHOUSE_POOL,
)
def bi_warehouse(warehouse: WarehouseResource, serving: ServingResource) -> dg.MaterializeResult:
    serving_path = Path(serving.serving_path)
    published = publish_tables(Path(warehouse.path), serving_path, Path(serving.exports_dir), BI_TABLES)
    return dg.MaterializeResult(
        metadata={
            "serving_path": dg.MetadataValue.path(str(serving_path)),
            "tables": dg.MetadataValue.json({t.name: t.rows for t in published}),
            **headline_figures(serving_path),
        }
    )
