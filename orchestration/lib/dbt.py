"""dbt wiring: the project handle, how dbt nodes become Dagster assets, and the vars every build gets.

dbt reads no business value of its own: the deployment's thresholds and defaults reach it as `--vars`
on every build (`deployment_vars`), beside the run's scoring date.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Iterator, Mapping
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


# The raw layer as a whole: every staging model waits for it as well as for the raw tables it reads. It
# is what makes a date-range backfill two runs (docs/architecture.md): the unpartitioned warehouse
# becomes eligible only once every raw load of the range is done, all of it in the same backfill tick.
RAW_LAYER_KEY = dg.AssetKey(["raw", "layer"])


class ClienteleDbtTranslator(DagsterDbtTranslator):
    """Groups and owners from the dbt folder structure, so a new model lands in the right place.

    A model reading raw tables also depends on the raw layer (`RAW_LAYER_KEY`). A raw table of a source
    the deployment does not enable has no asset (the raw layer creates it empty), so the staging model
    reading it depends on the raw layer alone rather than on an asset that can never materialize.
    """

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_code_references=True))

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        deps = [d for d in spec.deps if d.asset_key not in _DISABLED_RAW_KEYS]
        if any(d.asset_key.path[0] == RAW_LAYER_KEY.path[0] for d in spec.deps):
            deps.append(dg.AssetDep(RAW_LAYER_KEY))
        return spec.replace_attributes(deps=deps)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        folder = fqn[1] if len(fqn) > 2 else ""
        return _GROUP_BY_FOLDER.get(folder, super().get_group_name(dbt_resource_props))

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:analytics-engineering"]


def warehouse_dbt_assets(name: str, select: str, exclude: str = "") -> Any:
    """`@dbt_assets` for one of the warehouse's dbt builds: this project, its translator, the writer pool."""
    return dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        select=select,
        exclude=exclude,
        dagster_dbt_translator=ClienteleDbtTranslator(),
        pool=WAREHOUSE_POOL,
        name=name,
    )


def dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    run_vars: Mapping[str, Any] | None = None,
    full_refresh: bool = False,
) -> Iterator[Any]:
    """`dbt build` of the asset's selection against the resource's warehouse file, streaming events.

    Every build gets the deployment's vars and the run's own (`run_vars`: the scoring date). dbt's
    default (eager) indirect selection decides which tests run, the same rule dagster-dbt uses to
    declare the asset checks, so every test that runs is a declared check.

    dbt's line per model and test goes to the run's log at debug level (the UI shows it) instead of the
    terminal, which gets dbt's one-line summary: `make ui` and `make run` stay readable.
    """
    args = ["build", "--vars", json.dumps({**deployment_vars(DEPLOYMENT), **(run_vars or {})})]
    dbt_output = _DbtOutput(context.log)
    with warehouse.dbt_environment(), contextlib.redirect_stdout(dbt_output):
        yield from dbt.cli([*args, *(["--full-refresh"] if full_refresh else [])], context=context).stream()
    context.log.info(f"dbt build: {dbt_output.summary or 'no summary line'}")


class _DbtOutput(io.TextIOBase):
    """A text stream that forwards each line dagster-dbt echoes from dbt to a log at debug level,
    keeping dbt's closing `Done. PASS=.. WARN=.. ERROR=..` line as the build's summary."""

    def __init__(self, log: Any) -> None:
        self._log = log
        self._pending = ""
        self.summary = ""

    def write(self, text: str) -> int:
        *lines, self._pending = (self._pending + text).split("\n")
        for line in lines:
            if line.strip():
                self._log.debug(line)
            if "Done. PASS=" in line:
                self.summary = line[line.index("Done. ") + len("Done. ") :]
        return len(text)


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


def mart_asset_key(model_name: str) -> dg.AssetKey:
    """The asset key dagster-dbt gives a mart model: its schema, then its name."""
    return dg.AssetKey(["marts", model_name])
