"""The code location loads, and its graph is the one the docs describe."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from orchestration.definitions import defs
from orchestration.lib.dbt import RAW_LAYER_KEY
from orchestration.lib.warehouse import WAREHOUSE_POOL
from sources.config import REPO_ROOT


def test_definitions_load_and_resolve() -> None:
    dg.Definitions.validate_loadable(defs)


def test_no_dependency_points_outside_the_graph() -> None:
    # An asset key typo (e.g. a mart without its schema) makes a silent external asset, and the step
    # that depends on it may then run before the table exists.
    graph = defs.resolve_asset_graph()
    assert [k for k in graph.get_all_asset_keys() if graph.get(k).is_external] == []


def test_every_asset_has_a_group_description_and_owner() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_external:
            continue
        assert node.group_name and node.group_name != "default", key
        assert node.description, key
        assert node.owners, key


def test_everything_that_opens_the_warehouse_shares_one_pool() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_external:
            continue
        assets_def = graph.assets_def_for_key(key)
        assert assets_def.op.pool == WAREHOUSE_POOL, key
    for checks_def in defs.asset_checks or []:
        assert checks_def.op.pool == WAREHOUSE_POOL  # type: ignore[union-attr]


def test_only_raw_is_partitioned_and_it_backfills_in_a_single_run() -> None:
    # Export days partition the raw loads; everything after them is rebuilt from what raw holds (the facts
    # incrementally by load time), so a date-range backfill never meets a partitioned asset behind an
    # unpartitioned one, which Dagster's asset backfills cannot carry a range across.
    graph = defs.resolve_asset_graph()
    partitioned = {k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None}
    raw_sources = {k for k in graph.get_all_asset_keys() if k.path[0] == "raw"} - {RAW_LAYER_KEY}
    assert partitioned == raw_sources
    for key in partitioned:
        assert graph.get(key).backfill_policy == dg.BackfillPolicy.single_run(), key


def test_instance_config_gives_the_warehouse_pool_one_slot(tmp_path: Path) -> None:
    # Without this limit, two runs launched from the UI would open the DuckDB file together and one
    # would fail on its lock.
    shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        pools = instance.get_concurrency_config().pool_config
        assert pools.default_pool_limit == 1
        assert pools.pool_granularity.value == "op"
