"""The Clientele code location: gathers each stage's definitions and binds them to one deployment.

Data flows one way: landing files -> raw (ingestion) -> staging -> facts -> marts (dbt, with dbt tests
as checks) -> quality checks (Great Expectations) -> models (LightGBM) -> serving (published for BI).
The deployment's configuration (`CLIENTELE_CONFIG`, see docs/configuration.md) decides the calendar,
which sources have assets and every business value; the demo's truth checks join only when it names a
truth folder.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from orchestration.defs.ingestion.assets import QuarantineGateResource, raw_assets, raw_layer
from orchestration.defs.ingestion.sensors import landing_files_sensor
from orchestration.defs.jobs import daily_refresh_schedule
from orchestration.defs.ml.assets import ml_assets
from orchestration.defs.quality.checks import expectations_checks
from orchestration.defs.serving.assets import ServingResource, bi_warehouse, serving_customer_360
from orchestration.defs.warehouse.assets import warehouse_models
from orchestration.lib.dbt import dbt_cli_resource
from orchestration.lib.deployment import DEPLOYMENT
from orchestration.lib.landing import LandingResource
from orchestration.lib.scoring import ScoringResource
from orchestration.lib.shop_database import ShopDatabaseResource
from orchestration.lib.warehouse import WarehouseResource
from sources.config import SHOP_DATABASE_URL_ENV, ClienteleConfig

ALL_ASSETS = [
    *raw_assets,
    raw_layer,
    warehouse_models,
    *ml_assets,
    serving_customer_360,
    bi_warehouse,
]
ALL_CHECKS: list[dg.AssetChecksDefinition] = [*expectations_checks]
if DEPLOYMENT.paths.truth_dir is not None:
    from orchestration.defs.demo.truth_checks import truth_checks

    ALL_CHECKS += truth_checks


def resources_for(config: ClienteleConfig) -> dict[str, Any]:
    """Every resource, bound to one deployment's folders and policies (tests pass a temporary folder's)."""
    paths = config.paths
    optional: dict[str, Any] = {}
    if config.shop_database_contracts:
        optional["shop_database"] = ShopDatabaseResource(
            url=dg.EnvVar(SHOP_DATABASE_URL_ENV),
            timezone=config.calendar.timezone,
            lookback_days=config.ingestion.late_data_lookback_days,
        )
    if paths.truth_dir is not None:
        from orchestration.defs.demo.truth_checks import TruthResource

        optional["truth"] = TruthResource(path=str(paths.truth_dir))
    return {
        **optional,
        "landing": LandingResource(path=str(paths.landing_dir)),
        "warehouse": WarehouseResource(path=str(paths.warehouse_path)),
        "quarantine_gate": QuarantineGateResource(max_share=config.quality.max_quarantine_share),
        "scoring": ScoringResource(),
        "dbt": dbt_cli_resource(),
        "serving": ServingResource(serving_path=str(paths.serving_path), exports_dir=str(paths.exports_dir)),
    }


defs = dg.Definitions(
    assets=ALL_ASSETS,
    # Every step that touches the warehouse waits for its one slot, so steps never run side by side: a
    # process per step (the multiprocess default) would only add seconds of start-up to each of them.
    executor=dg.in_process_executor,
    asset_checks=ALL_CHECKS,
    schedules=[daily_refresh_schedule],
    sensors=[landing_files_sensor],
    resources=resources_for(DEPLOYMENT),
)
