"""Clientele run as Dagster users run it: a real `dagster dev` (webserver, daemon, code server) on a small demo,
used through GraphQL as the UI uses it, and through the UI itself in headless Debian Chromium. The tests
run in this order, each on the deployment the one before left.

- The landing sensor, switched on as in the UI, loads the exports already there, then a day that arrives
  later, each through to `bi.customer_360` in the published copy.
- An analyst's backfill of a week, launched through the webserver's `launchPartitionBackfill` (what the
  UI's "Materialize" on a date range calls) for the raw groups and everything downstream, is run by the
  daemon's asset-backfill machinery as docs/architecture.md says: two runs, the raw loads of exactly those
  days, then every other asset once after them, every check passing.
- The same clicked in the asset catalog, as README "Backfills" says (`group:raw_sales+`, a week typed
  into the partition range). With CLIENTELE_UPDATE_SCREENSHOTS=1 its launch dialog is saved as the
  README's picture, docs/images/ui-backfill-dialog.png; a failure names a screenshot of the page as it was.
- The churn model's asset page shows the latest materialization's `report_figures` as Dagster shows
  Markdown: "[Show Markdown]" opens it, and every figure in it is a rendered image. With
  CLIENTELE_UPDATE_SCREENSHOTS=1 the open report is saved as docs/images/model-report-in-dagster.png.
- Ctrl-C stops every process of `dagster dev` cleanly.

The deployment's calendar is open-ended, as a live one is; horizons of 30 days let both models train on
six months of history, and the quarantine gate is relaxed for a run this small. The browser is Debian's
`chromium` (`make browser`, part of `make test`), never one a test tool downloads.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import dagster as dg
import duckdb
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from orchestration.lib.dbt import RAW_LAYER_KEY
from sources.config import REPO_ROOT
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
CLICKED_DAYS = [date(2024, 5, 13) + timedelta(days=n) for n in range(7)]
SELECTION = "group:raw_sales+"  # the README's example: the raw_sales group and everything downstream
SELECTED_GROUP = "raw_sales"
DIALOG_PICTURE = REPO_ROOT / "docs" / "images" / "ui-backfill-dialog.png"
REPORT_PICTURE = REPO_ROOT / "docs" / "images" / "model-report-in-dagster.png"
CHURN_SCORES = ("ml", "customer_churn_scores")
REPORT_FIGURES = "report_figures"
INLINE_PNG = "](data:image/png;base64,"  # how ml.report.figures_markdown writes each figure
INLINE_PNG_IMAGE = "img[src^='data:image/png;base64,']"  # and how the UI shows it
# no sandbox as root; no GPU, updates, sync or outside connections on a build machine
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
ACTION_TIMEOUT_MS = 60_000  # a click, a page, a dialog; generous for two busy cores
SHOW_ALL_WAIT_MS = 15_000  # how long the dialog may take to offer older partitions
BACKFILL_TIMEOUT_S = 420  # two runs; about two minutes here


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
        # Dagster asks a new instance's first visitor on localhost to join its community, in a dialog over
        # the page; the analyst answered it long ago (the dialog's "Skip" sends this)
        running.graphql("mutation { setNuxSeen }")
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        reason = "Debian's chromium is not installed; `make browser` (part of `make test`) installs it"
        if os.environ.get("CI", "").lower() in {"true", "1"}:
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


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
    # and every check ran and passed: quarantine gates, dbt tests, Great Expectations, the models'; only
    # the drift check may warn (the demo's customers age between training and scoring: docs/models.md)
    assert len(checks) > 100
    drift_warnings = [
        c
        for c in checks
        if c.asset_check_key.name == "score_drift" and c.severity == dg.AssetCheckSeverity.WARN
    ]
    assert [
        c.asset_check_key.to_user_string() for c in checks if not c.passed and c not in drift_warnings
    ] == []
    assert {"trained_model_used", "great_expectations_fct_orders"} <= {c.asset_check_key.name for c in checks}


@contextmanager
def explained_failure(page: Page, tmp_path: Path, server: DagsterDev) -> Iterator[None]:
    """Any failure inside names a screenshot of the page as it was then, and the server's log."""
    try:
        yield
    except Exception as failure:
        picture = tmp_path / "failure.png"
        try:
            page.screenshot(path=picture)
        except Exception as no_picture:
            picture = Path(f"(no screenshot: {no_picture})")
        raise AssertionError(
            f"{failure}\n  the page then: {picture}\n  dagster dev log: {server.log_path}"
        ) from failure


def asset_graph(server: DagsterDev) -> list[dict]:
    return server.graphql(
        "{ assetNodes { assetKey { path } groupName isPartitioned dependedByKeys { path } } }"
    )["assetNodes"]


def group_and_downstream(nodes: list[dict], group: str) -> set[tuple[str, ...]]:
    """What `group:<group>+` selects: the group's assets and every asset downstream of them."""
    children = {tuple(n["assetKey"]["path"]): [tuple(k["path"]) for k in n["dependedByKeys"]] for n in nodes}
    selected: set[tuple[str, ...]] = set()
    todo = [tuple(n["assetKey"]["path"]) for n in nodes if n["groupName"] == group]
    while todo:
        key = todo.pop()
        if key not in selected:
            selected.add(key)
            todo.extend(children[key])
    return selected


def launch_backfill_in_catalog(page: Page, url: str, assets: int, dialog_picture: Path) -> str:
    """Click through the asset catalog as the README says; the id of the backfill the UI reports."""
    page.goto(f"{url}/assets")
    # the filter box is a code editor; its text area takes the typing
    page.get_by_role("textbox", name="Search and filter assets").focus()
    page.keyboard.type(SELECTION)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(f"asset-selection={quote(SELECTION, safe='')}")))
    # the header row's checkbox selects every asset the filter shows, scrolled out of view or not
    page.locator("label").filter(has=page.get_by_role("checkbox")).first.click()
    page.get_by_role("button", name=re.compile(rf"Materialize selected \({assets}\)")).click()

    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Launch runs to materialize {assets} assets")
    # a live calendar has years of days: once the partitions load, the dialog offers the last 90 only
    with contextlib.suppress(PlaywrightTimeoutError):
        dialog.get_by_role("button", name="Show all partitions").click(timeout=SHOW_ALL_WAIT_MS)
    # the range as the partition box writes it; the placeholder shows the syntax once the keys are loaded
    partitions = dialog.get_by_placeholder(re.compile(r"^ex: "))
    partitions.fill(f"[{CLICKED_DAYS[0]}...{CLICKED_DAYS[-1]}]")
    partitions.press("Enter")
    expect(dialog).to_contain_text(f"{len(CLICKED_DAYS)} partitions")
    page.screenshot(path=dialog_picture)
    dialog.get_by_role("button", name="Launch backfill").click()

    toast = page.get_by_role("listitem").filter(has_text="Created backfill")
    toast.hover()  # a toast stays while the pointer is on it
    backfill_id = toast.inner_text().split("Created backfill", 1)[1].split()[0]
    toast.get_by_role("link", name="View").click()
    expect(page).to_have_url(re.compile(rf"/runs/b/{backfill_id}"))
    return backfill_id


def backfill_status(server: DagsterDev, backfill_id: str) -> dict:
    return server.graphql(
        "query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill "
        "{ status assetSelection { path } } } }",
        {"id": backfill_id},
    )["partitionBackfillOrError"]


def backfill_runs(server: DagsterDev, backfill_id: str) -> list[dict]:
    runs = server.graphql(
        "query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) { ... on Runs { results { "
        "runId status startTime endTime assetMaterializations { assetKey { path } partition } } } } }",
        {"tags": [{"key": "dagster/backfill", "value": backfill_id}]},
    )["runsOrError"]["results"]
    return sorted(runs, key=lambda run: run["startTime"] or 0)


def overview_field(page: Page, label: str) -> Locator:
    """A field of the backfill page's overview: its label and value."""
    return page.get_by_text(label, exact=True).first.locator("xpath=..")


def test_an_analyst_backfills_a_week_from_the_asset_catalog(
    browser: Browser, server: DagsterDev, tmp_path: Path
) -> None:
    nodes = asset_graph(server)
    selected = group_and_downstream(nodes, SELECTED_GROUP)
    raw_sales = {tuple(n["assetKey"]["path"]) for n in nodes if n["groupName"] == SELECTED_GROUP}
    assert raw_sales and all(n["isPartitioned"] for n in nodes if tuple(n["assetKey"]["path"]) in raw_sales)
    assert ("serving", "bi_warehouse") in selected and len(selected) < len(nodes)  # raw_crm stays out

    page = browser.new_page(viewport={"width": 1280, "height": 800})  # the README picture's size
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    dialog_picture = tmp_path / "backfill-dialog.png"
    with explained_failure(page, tmp_path, server):
        backfill_id = launch_backfill_in_catalog(page, server.url, len(selected), dialog_picture)
        if os.environ.get("CLIENTELE_UPDATE_SCREENSHOTS") == "1":
            DIALOG_PICTURE.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(dialog_picture, DIALOG_PICTURE)

        def finished() -> dict | None:
            backfill = backfill_status(server, backfill_id)
            return backfill if backfill["status"] in FINISHED_BACKFILL else None

        backfill = server.wait(finished, "the backfill", timeout=BACKFILL_TIMEOUT_S, every=5)
        # the backfill page, open since the launch, refreshes itself
        expect(overview_field(page, "Status")).to_contain_text("Succeeded")
        expect(overview_field(page, "Partition selection")).to_contain_text(
            f"{CLICKED_DAYS[0]}...{CLICKED_DAYS[-1]}"
        )
        page.screenshot(path=tmp_path / "backfill.png")

        assert backfill["status"] == "COMPLETED_SUCCESS"
        assert {tuple(key["path"]) for key in backfill["assetSelection"]} == selected
        runs = backfill_runs(server, backfill_id)
        assert [run["status"] for run in runs] == ["SUCCESS", "SUCCESS"]  # docs/architecture.md: two runs
        loads, rebuild = runs
        assert rebuild["startTime"] >= loads["endTime"]
        # the raw loads replace exactly the week chosen, every raw_sales asset each of its days
        loaded = {(tuple(m["assetKey"]["path"]), m["partition"]) for m in loads["assetMaterializations"]}
        assert loaded == {(key, day.isoformat()) for key in raw_sales for day in CLICKED_DAYS}
        # then every other selected asset is rebuilt once
        rebuilt = sorted(tuple(m["assetKey"]["path"]) for m in rebuild["assetMaterializations"])
        assert rebuilt == sorted(selected - raw_sales)


def latest_materialization(server: DagsterDev, key: tuple[str, ...]) -> dict | None:
    """The asset's latest materialization: its run and its Markdown metadata by label."""
    asset = server.graphql(
        "query($key: AssetKeyInput!) { assetOrError(assetKey: $key) { ... on Asset { "
        "assetMaterializations(limit: 1) { runId metadataEntries { label "
        "... on MarkdownMetadataEntry { mdStr } } } } } }",
        {"key": {"path": list(key)}},
    )["assetOrError"]
    materializations = asset.get("assetMaterializations") or []
    if not materializations:
        return None
    [latest] = materializations
    markdown = {e["label"]: e["mdStr"] for e in latest["metadataEntries"] if "mdStr" in e}
    return {"runId": latest["runId"], "markdown": markdown}


def materialize_everything_loaded(server: DagsterDev) -> None:
    """What the tests above leave when this test runs alone: every day landed, backfilled as the GraphQL
    backfill test launches it (raw loads, then every other asset once, the models trained on it all)."""
    nodes = server.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"]
    days = [FIRST_DAY + timedelta(days=n) for n in range((LATE_DAY - FIRST_DAY).days)]
    launched = server.graphql(
        "mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) { __typename "
        "... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }",
        {
            "p": {
                "assetSelection": [n["assetKey"] for n in nodes],
                "partitionNames": [d.isoformat() for d in days],
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched

    def finished() -> str | None:
        status = backfill_status(server, launched["backfillId"])["status"]
        return status if status in FINISHED_BACKFILL else None

    assert server.wait(finished, "the backfill of every landed day", timeout=BACKFILL_TIMEOUT_S, every=5) == (
        "COMPLETED_SUCCESS"
    )


def rendered_images(dialog: Locator) -> list[dict]:
    """Each inline PNG the dialog shows: whether it finished loading and its decoded width."""
    return dialog.locator(INLINE_PNG_IMAGE).evaluate_all(
        "images => images.map(i => ({alt: i.alt, complete: i.complete, naturalWidth: i.naturalWidth}))"
    )


def test_the_churn_model_page_shows_the_report_figures(
    browser: Browser, server: DagsterDev, tmp_path: Path
) -> None:
    if latest_materialization(server, CHURN_SCORES) is None:
        materialize_everything_loaded(server)
    latest = latest_materialization(server, CHURN_SCORES)
    assert latest is not None, "ml/customer_churn_scores was never materialized"
    figures_markdown = latest["markdown"].get(REPORT_FIGURES, "")
    figures = figures_markdown.count(INLINE_PNG)
    assert figures > 0, (
        f"the latest materialization (run {latest['runId']}) carries no figures; its Markdown entries: "
        f"{sorted(latest['markdown'])}"
    )

    page = browser.new_page(viewport={"width": 1400, "height": 900})  # docs/models.md's picture
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    with explained_failure(page, tmp_path, server):
        page.goto(f"{server.url}/assets/{'/'.join(CHURN_SCORES)}")
        # the overview's metadata table: each key's latest value; long Markdown sits behind a link
        row = page.get_by_role("row").filter(has=page.get_by_text(REPORT_FIGURES, exact=True))
        row.get_by_text("[Show Markdown]").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text(REPORT_FIGURES)
        expect(dialog.locator(INLINE_PNG_IMAGE)).to_have_count(figures)  # none dropped by the renderer

        def decoded() -> list[dict] | None:
            images = rendered_images(dialog)
            return images if all(i["complete"] for i in images) else None

        images = server.wait(decoded, "the report's images to decode", timeout=30, every=0.5)
        blank = [i["alt"] for i in images if i["naturalWidth"] == 0]
        assert blank == [], f"figures that do not show as pictures: {blank}"
        picture = tmp_path / "model-report.png"
        page.screenshot(path=picture, animations="disabled")  # the dialog as it ends, not fading in
        if os.environ.get("CLIENTELE_UPDATE_SCREENSHOTS") == "1":
            REPORT_PICTURE.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(picture, REPORT_PICTURE)


def test_ctrl_c_stops_every_process_of_dagster_dev(server: DagsterDev) -> None:
    assert server.stop() < 30
