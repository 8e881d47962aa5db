"""The two dbt builds between them run every dbt test once, as a declared check, after all its models.

A test whose models span two builds is the trap: run in the earlier build it judges yesterday's table,
and a test dbt runs that dagster-dbt did not declare only logs an observation, so it can never block.
"""

from __future__ import annotations

import json
from collections import Counter

import dagster as dg
from dagster_dbt.utils import select_unique_ids

from orchestration.defs.serving.assets import serving_customer_360
from orchestration.defs.warehouse.assets import warehouse_models
from orchestration.lib.dbt import dbt_project

BUILDS_IN_ORDER = [warehouse_models, serving_customer_360]
MANIFEST = json.loads(dbt_project.manifest_path.read_text())


def manifest_tests() -> dict[str, set[str]]:
    """Every dbt data test's name -> the names of the models it reads."""
    return {
        node["name"]: {p.split(".")[-1] for p in node["depends_on"]["nodes"] if p.startswith("model.")}
        for node in MANIFEST["nodes"].values()
        if node["resource_type"] == "test"
    }


def dbt_tests_run_by(build: dg.AssetsDefinition) -> set[str]:
    """The tests `dbt build` runs for the build's selection (eager indirect selection, as at run time)."""
    tags = build.op.tags
    selected = select_unique_ids(
        tags.get("dagster_dbt/select", "fqn:*"),
        tags.get("dagster_dbt/exclude", ""),
        "",
        dbt_project,
        MANIFEST,
    )
    return {MANIFEST["nodes"][uid]["name"] for uid in selected if uid.startswith("test.")}


def test_every_dbt_test_runs_in_exactly_one_build_as_a_declared_check() -> None:
    runs = Counter(name for build in BUILDS_IN_ORDER for name in dbt_tests_run_by(build))
    assert sorted(name for name in manifest_tests() if runs[name] != 1) == []
    for build in BUILDS_IN_ORDER:
        assert {spec.key.name for spec in build.check_specs} == dbt_tests_run_by(build), build.op.name


def test_every_check_runs_after_all_its_models_are_built() -> None:
    tests = manifest_tests()
    built_so_far: set[str] = set()
    for build in BUILDS_IN_ORDER:
        built_so_far |= {key.path[-1] for key in build.keys}
        for name in dbt_tests_run_by(build):
            not_yet_built = tests[name] - built_so_far
            assert not not_yet_built, f"{build.op.name} runs {name} before {not_yet_built} is built"
