"""The analyst's backfill of README "Backfills (analysts)", clicked through the real Dagster UI in headless
Chromium: in the asset catalog of a running `dagster dev`, filter to the `raw_sales` group and everything
downstream, select all, "Materialize selected", type a week into the partition range, launch the backfill,
and see the daemon finish it as docs/architecture.md says: two runs, the raw loads of exactly that week,
then every other selected asset once.

The browser is Debian's `chromium` (`make browser`, part of `make test`), never one a test tool downloads.
With CLIENTELE_UPDATE_SCREENSHOTS=1 the launch dialog is also saved as the README's picture,
docs/images/ui-backfill-dialog.png. A failure names a screenshot of the page as it was, and the server log.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from sources.config import REPO_ROOT
from tests.dagster_dev import FINISHED_BACKFILL, DagsterDev, Deployment, dagster_dev, demo_deployment

FIRST_DAY, END_DATE = date(2024, 1, 1), date(2024, 7, 2)  # END_DATE exclusive, as in the configuration
BACKFILL_DAYS = [date(2024, 6, 10) + timedelta(days=n) for n in range(7)]
SELECTION = "group:raw_sales+"  # the README's example: the raw_sales group and everything downstream
SELECTED_GROUP = "raw_sales"
DIALOG_PICTURE = REPO_ROOT / "docs" / "images" / "ui-backfill-dialog.png"
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
BACKFILL_TIMEOUT_S = 420  # two runs; about two minutes here


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


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """The demo's first half-year, loaded by `run_all` (`make pipeline`) before the UI opens, so the
    backfill re-runs a week of a live warehouse, as an analyst's does."""
    deployment = demo_deployment(
        tmp_path_factory.mktemp("ui_browser"),
        customers=400,
        start=FIRST_DAY.isoformat(),
        end=END_DATE.isoformat(),
        CLIENTELE_END_DATE=END_DATE.isoformat(),  # run_all loads the calendar; an open one runs to today
        CLIENTELE_MAX_QUARANTINE_SHARE="0.2",
        CLIENTELE__MODELS__CHURN__HORIZON_DAYS="30",
        CLIENTELE__MODELS__CLV__HORIZON_DAYS="30",
        CLIENTELE__PATHS__TRUTH_DIR="",
    )
    loaded = subprocess.run(
        [sys.executable, "-m", "orchestration.run_all"],
        env=deployment.env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert loaded.returncode == 0, loaded.stdout[-3000:] + loaded.stderr[-3000:]
    return deployment


@pytest.fixture(scope="module")
def server(deployment: Deployment) -> Iterator[DagsterDev]:
    with dagster_dev(deployment) as running:
        # Dagster asks a new instance's first visitor on localhost to join its community, in a dialog
        # over the page; the analyst answered it long ago (the dialog's "Skip" sends this)
        running.graphql("mutation { setNuxSeen }")
        yield running


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
    # the range as the partition box writes it; the placeholder shows the syntax once the keys are loaded
    partitions = dialog.get_by_placeholder(re.compile(r"^ex: "))
    partitions.fill(f"[{BACKFILL_DAYS[0]}...{BACKFILL_DAYS[-1]}]")
    partitions.press("Enter")
    expect(dialog).to_contain_text(f"{len(BACKFILL_DAYS)} partitions")
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
            f"{BACKFILL_DAYS[0]}...{BACKFILL_DAYS[-1]}"
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
        assert loaded == {(key, day.isoformat()) for key in raw_sales for day in BACKFILL_DAYS}
        # then every other selected asset is rebuilt once
        rebuilt = sorted(tuple(m["assetKey"]["path"]) for m in rebuild["assetMaterializations"])
        assert rebuilt == sorted(selected - raw_sales)
