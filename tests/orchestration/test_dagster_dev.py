"""Clientele run as Dagster users run it: a real `dagster dev` (webserver, daemon, code server) on a small demo.

- The landing sensor, switched on as in the UI, loads the exports already there, then a day that arrives
  later, each through to `bi.customer_360` in the published copy.
- An analyst's backfill of a week, launched through the webserver's `launchPartitionBackfill` (what the
  UI's "Materialize" on a date range calls) for every asset, is run by the daemon's asset-backfill machinery
  as docs/architecture.md says: two runs, the raw loads of exactly those days, then every other asset once
  after them, every check passing.
- Ctrl-C stops every process of `dagster dev` cleanly.

The deployment's calendar is open-ended, as a live one is; horizons of 30 days let both models train on
six months of history, and the quarantine gate is relaxed for a run this small.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import duckdb
import pytest

from orchestration.lib.dbt import RAW_LAYER_KEY
from tests.dagster_dev import (
    FINISHED_BACKFILL,
    FINISHED_RUN,
    DagsterDev,
    Deployment,
    dagster_dev,
    demo_deployment,
)

FIRST_DAY, LATE_DAY = date(2024, 1, 1), date(2024, 7, 1)
BACKFILL_DAYS = [date(2024, 6, 10) + timedelta(days=n) for n in range(7)]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    deployment = demo_deployment(
        tmp_path_factory.mktemp("dagster_dev"),
        customers=400,
        start=FIRST_DAY.isoformat(),
        end=(LATE_DAY + timedelta(days=1)).isoformat(),
        CLIENTELE_END_DATE="",
        CLIENTELE_MAX_QUARANTINE_SHARE="0.2",
        CLIENTELE__MODELS__CHURN__HORIZON_DAYS="30",
        CLIENTELE__MODELS__CLV__HORIZON_DAYS="30",
        CLIENTELE__PATHS__TRUTH_DIR="",
    )
    # the last day's exports arrive later, during the test
    held_back = deployment.root / "held_back"
    for path in deployment.landing_dir.rglob(f"{LATE_DAY.isoformat()}.*"):
        target = held_back / path.relative_to(deployment.landing_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
    return deployment


@pytest.fixture(scope="module")
def server(deployment: Deployment) -> Iterator[DagsterDev]:
    with dagster_dev(deployment) as running:
        yield running


def instance(deployment: Deployment) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(deployment.env["DAGSTER_HOME"])


def sensor_selector(server: DagsterDev) -> dict[str, str]:
    data = server.graphql(
        "{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"
    )
    [repository] = data["repositoriesOrError"]["nodes"]
    return {
        "repositoryName": repository["name"],
        "repositoryLocationName": repository["location"]["name"],
        "sensorName": "landing_files_sensor",
    }


def stop_sensor(server: DagsterDev, selector: dict[str, str]) -> None:
    sensor = server.graphql(
        "query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { ... on Sensor { "
        "jobOriginId sensorState { selectorId } } } }",
        {"s": selector},
    )["sensorOrError"]
    server.graphql(
        "mutation($origin: String!, $selector: String!) { stopSensor(jobOriginId: $origin, "
        "jobSelectorId: $selector) { __typename } }",
        {"origin": sensor["jobOriginId"], "selector": sensor["sensorState"]["selectorId"]},
    )


def runs_of(server: DagsterDev, key: str, value: str) -> list[dict]:
    data = server.graphql(
        "query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) { ... on Runs { results { "
        "runId status startTime endTime tags { key value } } } } }",
        {"tags": [{"key": key, "value": value}]},
    )
    return sorted(data["runsOrError"]["results"], key=lambda run: run["startTime"] or 0)


def finished_sensor_runs(server: DagsterDev, count: int) -> list[dict] | None:
    runs = runs_of(server, "dagster/sensor_name", "landing_files_sensor")
    if len(runs) >= count and all(run["status"] in FINISHED_RUN for run in runs):
        return runs
    return None


def published(deployment: Deployment, sql: str) -> list[tuple]:
    with duckdb.connect(str(deployment.serving_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_sensor_loads_arriving_days_through_to_the_published_copy(
    server: DagsterDev, deployment: Deployment
) -> None:
    selector = sensor_selector(server)
    server.graphql(
        "mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename } }", {"s": selector}
    )
    [first] = server.wait(lambda: finished_sensor_runs(server, 1), "the sensor's first run")
    assert first["status"] == "SUCCESS"
    tags = {t["key"]: t["value"] for t in first["tags"]}
    # every export already there, in one run, up to the published copy
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
        FIRST_DAY.isoformat(),
        (LATE_DAY - timedelta(days=1)).isoformat(),
    )
    assert published(deployment, "select max(churn_scoring_date) from bi.customer_360") == [(LATE_DAY,)]

    held_back = deployment.root / "held_back"
    for path in held_back.rglob("*.*"):
        target = deployment.landing_dir / path.relative_to(held_back)
        shutil.move(path, target)
    runs = server.wait(lambda: finished_sensor_runs(server, 2), "the sensor's run for the new day")
    assert [run["status"] for run in runs] == ["SUCCESS", "SUCCESS"]
    tags = {t["key"]: t["value"] for t in runs[-1]["tags"]}
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
        LATE_DAY.isoformat(),
        LATE_DAY.isoformat(),
    )
    # the new day is in the published customer_360: scored as of the day after it, its orders counted
    after = LATE_DAY + timedelta(days=1)
    assert published(
        deployment, "select max(churn_scoring_date), max(clv_scoring_date) from bi.customer_360"
    ) == [(after, after)]
    [(late_orders,)] = published(
        deployment, f"select count(*) from marts.fct_orders where order_date = '{LATE_DAY}'"
    )
    [(landed,)] = duckdb.sql(
        f"select count(*) from read_csv('{deployment.landing_dir}/sales/orders/{LATE_DAY}.csv', all_varchar=true)"
    ).fetchall()
    assert 0 < late_orders <= landed
    stop_sensor(server, selector)  # the backfill below runs without it


def test_a_ui_backfill_of_a_week_is_two_runs_that_rebuild_everything_once(
    server: DagsterDev, deployment: Deployment
) -> None:
    nodes = server.graphql("{ assetNodes { assetKey { path } isPartitioned } }")["assetNodes"]
    everything = [node["assetKey"] for node in nodes]
    launched = server.graphql(
        "mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) { __typename "
        "... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }",
        {"p": {"assetSelection": everything, "partitionNames": [d.isoformat() for d in BACKFILL_DAYS]}},
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    def finished() -> str | None:
        status = server.graphql(
            "query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill "
            "{ status } } }",
            {"id": backfill_id},
        )["partitionBackfillOrError"]["status"]
        return status if status in FINISHED_BACKFILL else None

    assert server.wait(finished, "the backfill", every=5) == "COMPLETED_SUCCESS"

    runs = runs_of(server, "dagster/backfill", backfill_id)
    assert [run["status"] for run in runs] == ["SUCCESS", "SUCCESS"]  # docs/architecture.md: two runs
    loads, rebuild = runs
    assert rebuild["startTime"] >= loads["endTime"]

    partitioned = {tuple(n["assetKey"]["path"]) for n in nodes if n["isPartitioned"]}
    unpartitioned = {tuple(n["assetKey"]["path"]) for n in nodes if not n["isPartitioned"]}
    assert tuple(RAW_LAYER_KEY.path) in unpartitioned
    with instance(deployment) as dagster:
        load_events = dagster.all_logs(loads["runId"], of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        rebuild_events = dagster.all_logs(rebuild["runId"], of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        checks = [
            e.dagster_event.asset_check_evaluation_data
            for run in runs
            for e in dagster.all_logs(run["runId"], of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
            if e.dagster_event is not None
        ]
    # the first run loads exactly the week, every partitioned asset each of its days
    loaded = {
        (tuple(e.dagster_event.asset_key.path), e.dagster_event.partition)  # type: ignore[union-attr]
        for e in load_events
    }
    assert loaded == {(key, day.isoformat()) for key in partitioned for day in BACKFILL_DAYS}
    # the second rebuilds every other asset exactly once
    rebuilt = [tuple(e.dagster_event.asset_key.path) for e in rebuild_events]  # type: ignore[union-attr]
    assert sorted(rebuilt) == sorted(unpartitioned)
    # and every check ran and passed: quarantine gates, dbt tests, Great Expectations, the models'
    assert len(checks) > 100
    assert [c.asset_check_key.to_user_string() for c in checks if not c.passed] == []
    assert {"trained_model_used", "great_expectations_fct_orders"} <= {c.asset_check_key.name for c in checks}


def test_ctrl_c_stops_every_process_of_dagster_dev(server: DagsterDev) -> None:
    assert server.stop() < 30
