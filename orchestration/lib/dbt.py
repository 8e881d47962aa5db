"""dbt wiring: the project handle, how dbt nodes become Dagster assets, and the vars every build gets.

dbt reads no business value of its own: the deployment's thresholds and defaults reach it as `--vars`
on every build (`deployment_vars`), beside the run's partition window and scoring date.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.lib.deployment import DBT_PROJECT_DIR, DEPLOYMENT
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource
from sources.config import ClienteleConfig
from sources.contracts import ALL_SOURCES

# The manifest is built by `make manifest` (dbt parse) at build/test time; loading the code location
# only reads it.
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_cli_resource() -> DbtCliResource:
    """dbt from this interpreter's environment, which need not be on PATH (e.g. `.venv/bin`)."""
    return DbtCliResource(project_dir=dbt_project, dbt_executable=str(Path(sys.executable).with_name("dbt")))


_DISABLED_RAW_KEYS = {
    dg.AssetKey(["raw", c.raw_table]) for c in ALL_SOURCES if c not in DEPLOYMENT.enabled_contracts
}

_GROUP_BY_FOLDER = {
    "staging": "warehouse_staging",
    "intermediate": "warehouse_intermediate",
    "marts": "warehouse_marts",
    "bi": "serving",
}


class ClienteleDbtTranslator(DagsterDbtTranslator):
    """Groups and owners from the dbt folder structure, so a new model lands in the right place.

    A raw table of a source the deployment does not enable has no asset (its table is created empty), so
    the staging model reading it depends on no asset rather than on one that can never materialize.
    """

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_code_references=True))

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        return spec.replace_attributes(deps=[d for d in spec.deps if d.asset_key not in _DISABLED_RAW_KEYS])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        folder = fqn[1] if len(fqn) > 2 else ""
        return _GROUP_BY_FOLDER.get(folder, super().get_group_name(dbt_resource_props))

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:analytics-engineering"]


def warehouse_dbt_assets(name: str, select: str, exclude: str = "", **partitioning: Any) -> Any:
    """`@dbt_assets` for one of the warehouse's dbt builds: this project, its translator, the writer pool.

    `partitioning` takes `partitions_def` and `backfill_policy` for the partitioned build.
    """
    return dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        select=select,
        exclude=exclude,
        dagster_dbt_translator=ClienteleDbtTranslator(),
        pool=WAREHOUSE_POOL,
        name=name,
        **partitioning,
    )


def dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    run_vars: Mapping[str, Any] | None = None,
    full_refresh: bool = False,
) -> Iterator[Any]:
    """`dbt build` of the asset's selection against the resource's warehouse file, streaming events.

    Every build gets the deployment's vars and the run's own (`run_vars`: window, scoring date). dbt's
    default (eager) indirect selection decides which tests run, the same rule dagster-dbt uses to
    declare the asset checks, so every test that runs is a declared check; the selections themselves put
    each test in the build that makes the last of its models (see `defs/warehouse/assets.py`).
    """
    args = ["build", "--vars", json.dumps({**deployment_vars(DEPLOYMENT), **(run_vars or {})})]
    with warehouse.dbt_environment():
        yield from dbt.cli([*args, *(["--full-refresh"] if full_refresh else [])], context=context).stream()


def deployment_vars(config: ClienteleConfig) -> dict[str, Any]:
    """The dbt vars a deployment's configuration sets (dbt_project.yml declares no defaults for them)."""
    lifecycle, abc_xyz = config.segments.lifecycle, config.segments.abc_xyz
    return {
        "default_currency": config.currency.default,
        "default_channel": config.vocabulary.default_channel,
        "online_channels": list(config.vocabulary.online_channels),
        "segment_new_days": lifecycle.new_days,
        "segment_lost_days": lifecycle.lost_days,
        "segment_at_risk_days": lifecycle.at_risk_days,
        "segment_at_risk_factor": lifecycle.at_risk_factor,
        "segment_at_risk_min_gap_days": lifecycle.at_risk_min_gap_days,
        "segment_regular_orders_365d": lifecycle.regular_orders_365d,
        "abc_xyz_window_months": abc_xyz.window_months,
        "abc_a_share": abc_xyz.a_share,
        "abc_b_share": abc_xyz.b_share,
        "xyz_x_max_cv": abc_xyz.x_max_cv,
        "xyz_y_max_cv": abc_xyz.y_max_cv,
        "retention_active_months": config.segments.retention_active_months,
    }


def window_vars(start: date, end: date, lookback_days: int = 0) -> dict[str, Any]:
    """dbt vars for a half-open window of export days [start, end), widened back by `lookback_days`.

    The end stays exclusive on purpose: an inclusive `max_date` would load the boundary day in two
    consecutive runs (the bug the hooli demo shipped). The lookback re-reads days whose raw rows a later
    load may have replaced (the shop database's late commits); the facts rebuild those keys, so it costs
    rework, never duplicates.
    """
    if end <= start:
        raise ValueError(f"empty partition window [{start}, {end})")
    if lookback_days < 0:
        raise ValueError(f"lookback_days must be >= 0, got {lookback_days}")
    return {"min_date": start.isoformat(), "max_date": end.isoformat(), "lookback_days": lookback_days}


def mart_asset_key(model_name: str) -> dg.AssetKey:
    """The asset key dagster-dbt gives a mart model: its schema, then its name."""
    return dg.AssetKey(["marts", model_name])
