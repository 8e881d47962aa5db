"""The Clientele code location: gathers each stage's definitions and binds them to one deployment's settings.

Data flows one way: landing files -> raw (ingestion) -> staging -> facts -> marts (dbt, with dbt tests
as checks) -> quality checks (Great Expectations) -> models (LightGBM) -> serving (published for BI).
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from orchestration.defs.ingestion.assets import raw_assets
from orchestration.defs.ingestion.sensors import landing_files_sensor
from orchestration.defs.jobs import daily_refresh_schedule
from orchestration.defs.ml.assets import ml_assets
from orchestration.defs.quality.checks import expectations_checks
from orchestration.defs.quality.identity import identity_resolution_against_demo_truth
from orchestration.defs.serving.assets import ServingResource, bi_warehouse, serving_customer_360
from orchestration.defs.warehouse.assets import warehouse_facts, warehouse_marts, warehouse_staging
from orchestration.lib.dbt import dbt_cli_resource
from orchestration.lib.landing import LandingResource
from orchestration.lib.settings import SHOP_DATABASE_URL_ENV, Settings
from orchestration.lib.shop_database import ShopDatabaseResource
from orchestration.lib.truth import TruthResource
from orchestration.lib.warehouse import WarehouseResource

ALL_ASSETS = [
    *raw_assets,
    warehouse_staging,
    warehouse_facts,
    warehouse_marts,
    *ml_assets,
    serving_customer_360,
    bi_warehouse,
]
ALL_CHECKS = [*expectations_checks, identity_resolution_against_demo_truth]


def resources_for(settings: Settings) -> dict[str, Any]:
    """Every resource, bound to one deployment's folders (tests pass a temporary folder's settings)."""
    shop_database = (
        {
            "shop_database": ShopDatabaseResource(
                url=dg.EnvVar(SHOP_DATABASE_URL_ENV), timezone=settings.timezone
            )
        }
        if settings.sales_from_shop_database
        else {}
    )
    return {
        **shop_database,
        "landing": LandingResource(path=str(settings.landing_dir)),
        "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
        "dbt": dbt_cli_resource(),
        "truth": TruthResource(path=str(settings.truth_dir)),
        "serving": ServingResource(
            serving_path=str(settings.serving_path), exports_dir=str(settings.exports_dir)
        ),
    }


defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    schedules=[daily_refresh_schedule],
    sensors=[landing_files_sensor],
    resources=resources_for(Settings.from_env()),
)
