"""What BI tools read: the customer-360 table joining warehouse and model scores, and the published copy
(`data/serving/warehouse.duckdb` and `data/exports/*.parquet`) of every BI-facing table."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.ml.assets import ml_assets
from orchestration.defs.quality.checks import GATED_TABLES, SUITES
from orchestration.defs.warehouse.assets import warehouse_models
from orchestration.lib.dbt import dbt_build, dbt_project, warehouse_dbt_assets
from orchestration.lib.deployment import DEPLOYMENT
from orchestration.lib.publish import (
    TableDocs,
    headline_figures,
    publish_tables,
    table_docs_from_manifest,
    with_not_null,
)
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


def not_null_by_quality_gates() -> dict[str, frozenset[str]]:
    """Columns the blocking Great Expectations gates keep free of nulls, by `schema.table`.

    The `ml` score tables are not dbt models, so no dbt test says which of their columns are never
    null; their GX suite does, and is read here rather than restated anywhere else. Building the
    expectations imports GX (a few seconds, once per publish).
    """
    import great_expectations.expectations as gxe

    return {
        table: frozenset(
            rule.column
            for rule in SUITES[table.split(".")[-1]].define()
            if isinstance(rule, gxe.ExpectColumnValuesToNotBeNull)
            and rule.mostly == 1
            and not rule.row_condition
        )
        for table, _ in GATED_TABLES.values()
    }


def published_docs() -> dict[str, TableDocs]:
    """What the published copy says about each table: dbt's descriptions and not-null guarantees
    (`dbt_project/target/manifest.json`), plus the quality gates' not-null columns."""
    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    return with_not_null(table_docs_from_manifest(manifest), not_null_by_quality_gates())


@dg.asset(
    key=["serving", "bi_warehouse"],
    description=(
        "Atomically replaced copy of the BI-facing tables (DuckDB file and Parquet exports), carrying dbt's "
        "table and column descriptions as comments, NOT NULL where a check guarantees it, and the business "
        "time zone on every timestamp."
    ),
    group_name="serving",
    owners=["team:data-engineering"],
    kinds={"duckdb", "parquet"},
    deps=[*warehouse_models.keys, *serving_customer_360.keys, *(key for a in ml_assets for key in a.keys)],
    pool=WAREHOUSE_POOL,
)
def bi_warehouse(warehouse: WarehouseResource, serving: ServingResource) -> dg.MaterializeResult:
    schemas = ", ".join(f"'{s}'" for s in PUBLISHED_SCHEMAS)
    tables = warehouse.read_frame(
        "select table_schema || '.' || table_name as name from information_schema.tables "
        f"where table_schema in ({schemas}) and table_type = 'BASE TABLE' order by name"
    )["name"].tolist()
    serving_path = Path(serving.serving_path)
    published = publish_tables(
        Path(warehouse.path),
        serving_path,
        Path(serving.exports_dir),
        tables,
        docs=published_docs(),
        timezone=DEPLOYMENT.calendar.timezone,
    )
    contradicted = {t.name: list(t.not_null_contradicted) for t in published if t.not_null_contradicted}
    return dg.MaterializeResult(
        metadata={
            "serving_path": dg.MetadataValue.path(str(serving_path)),
            "tables": dg.MetadataValue.json({t.name: t.rows for t in published}),
            "tables_without_description": dg.MetadataValue.json(
                [t.name for t in published if not t.described]
            ),
            "not_null_columns": sum(len(t.not_null) for t in published),
            # A check said never null, the rows say otherwise: published nullable; that check has failed.
            **({"not_null_contradicted": dg.MetadataValue.json(contradicted)} if contradicted else {}),
            **headline_figures(serving_path),
        }
    )
