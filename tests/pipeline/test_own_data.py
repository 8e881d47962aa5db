"""A retailer's own data, run as a user runs it: the real CDNOW sample from its flat file to `bi.customer_360`.

Each deployment is a separate interpreter (`python -m sources.transactions`, then `python -m
orchestration.run_all`, as `make import` and `make pipeline` run them), because a code location reads its
configuration once, when it loads. The configuration is the README's example (docs/examples/cdnow.yml):
orders only, US dollars, a 91-day churn and a 273-day CLV horizon; nothing else is set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from sources.config import REPO_ROOT

CDNOW_CONFIG = REPO_ROOT / "docs" / "examples" / "cdnow.yml"
CUSTOMERS = 2357


@dataclass(frozen=True)
class Deployment:
    """One CDNOW deployment in a temporary folder: its environment, data and Dagster instance."""

    env: dict[str, str]
    data_dir: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, *args], env=self.env, cwd=REPO_ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, (
            f"{' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
        return result

    def published(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.data_dir / "serving" / "warehouse.duckdb"), read_only=True) as con:
            return con.execute(sql).fetchall()

    def latest_metadata(self, *key: str) -> dict[str, object]:
        with dg.DagsterInstance.from_config(self.env["DAGSTER_HOME"]) as instance:
            event = instance.get_latest_materialization_event(dg.AssetKey(list(key)))
            assert event is not None and event.asset_materialization is not None, key
            return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def cdnow_deployment(root: Path, cdnow_sample: Path, **overrides: str) -> Deployment:
    """The sample imported and the whole pipeline run, with the environment `overrides` on top."""
    root.mkdir(parents=True)
    (root / "dagster").mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLIENTELE")},
        "CLIENTELE_CONFIG": str(CDNOW_CONFIG),
        "CLIENTELE_DATA_DIR": str(root),
        "DAGSTER_HOME": str(root / "dagster"),
        **overrides,
    }
    deployment = Deployment(env=env, data_dir=root)
    deployment.run("-m", "sources.transactions", str(cdnow_sample))
    deployment.run("-m", "orchestration.run_all")
    return deployment


@pytest.fixture(scope="module")
def full_history(tmp_path_factory: pytest.TempPathFactory, cdnow_sample_path: Path) -> Deployment:
    return cdnow_deployment(tmp_path_factory.mktemp("cdnow") / "full", cdnow_sample_path)


@pytest.fixture(scope="module")
def nine_months(tmp_path_factory: pytest.TempPathFactory, cdnow_sample_path: Path) -> Deployment:
    # The same deployment whose calendar ends on 1997-10-01: nine months of history, as the CDNOW reference
    # protocol's calibration period; too short for a 273-day CLV horizon.
    root = tmp_path_factory.mktemp("cdnow") / "nine_months"
    return cdnow_deployment(root, cdnow_sample_path, CLIENTELE_END_DATE="1997-10-01")


def test_every_customer_is_scored_by_both_models_and_published(full_history: Deployment) -> None:
    assert full_history.published(
        "select count(*), count(distinct customer_id), count(churn_probability), count(predicted_revenue), "
        "min(churn_horizon_days), max(churn_horizon_days), min(clv_horizon_days), max(clv_horizon_days), "
        "min(churn_scoring_date), max(clv_scoring_date) from bi.customer_360"
    ) == [(CUSTOMERS, CUSTOMERS, CUSTOMERS, CUSTOMERS, 91, 91, 273, 273, date(1998, 7, 1), date(1998, 7, 1))]
    for table in ("ml.customer_churn_scores", "ml.customer_clv"):
        assert full_history.published(f"select count(distinct customer_id) from {table}") == [(CUSTOMERS,)]
    for task in ("customer_churn_scores", "customer_clv"):
        assert full_history.latest_metadata("ml", task)["model"] == "lightgbm"
    assert (full_history.data_dir / "exports" / "bi__customer_360.parquet").is_file()


def test_the_warehouse_holds_every_dollar_and_segments_every_customer(full_history: Deployment) -> None:
    # 6,919 customer-days in the file are 6,919 orders, all in dollars, all of known customers
    assert full_history.published(
        "select count(*), sum(net_amount), min(currency), max(currency), count(distinct customer_id) "
        "from marts.fct_orders"
    ) == [(6919, Decimal("244091.94"), "USD", "USD", CUSTOMERS)]
    assert full_history.published("select count(*) from bi.customer_360 where lifecycle_segment is null") == [
        (0,)
    ]
    [(months,)] = full_history.published("select count(*) from marts.kpi_revenue_decomposition")
    assert months == 18


def test_nine_months_publish_churn_and_the_clv_fallback_says_why(nine_months: Deployment) -> None:
    churn = nine_months.latest_metadata("ml", "customer_churn_scores")
    clv = nine_months.latest_metadata("ml", "customer_clv")
    assert churn["model"] == "lightgbm"
    assert clv["model"] == "btyd"  # no labelled 273-day window yet: the BTYD baseline needs no labels
    why = str(clv["why_not_lightgbm"])
    assert "273-day" in why and "1997-10-01" in why and "BTYD baseline" in why
    [(churn_scored, clv_scored, clv_versions)] = nine_months.published(
        "select count(churn_probability), count(predicted_revenue), list(distinct clv_model_version) "
        "from bi.customer_360"
    )
    assert churn_scored == clv_scored == CUSTOMERS
    assert [version.split("-")[:2] for version in clv_versions] == [["clv", "btyd"]]


def test_a_past_scoring_date_sees_what_a_run_on_that_date_saw(
    full_history: Deployment, nine_months: Deployment
) -> None:
    # Rescore the full history as of 1997-10-01 from the launchpad's scoring date: the scores must be the
    # ones the deployment that only had data until then produced, to the last digit.
    rescore = (
        "import dagster as dg\n"
        "from orchestration.definitions import defs\n"
        "from orchestration.defs.ml.assets import customer_churn_scores\n"
        "from orchestration.defs.warehouse.assets import warehouse_models\n"
        "result = dg.materialize([warehouse_models, customer_churn_scores], instance=dg.DagsterInstance.get(),\n"
        "    resources=defs.resources,\n"
        "    run_config={'resources': {'scoring': {'config': {'scoring_date': '1997-10-01'}}}})\n"
        "assert result.success\n"
    )
    full_history.run("-c", rescore)
    sql = (
        "select customer_id, churn_probability, model_version from ml.customer_churn_scores "
        "where scoring_date = '1997-10-01' order by customer_id"
    )
    with duckdb.connect(str(full_history.data_dir / "warehouse" / "clientele.duckdb"), read_only=True) as con:
        rescored = con.execute(sql).fetchall()
    assert len(rescored) == CUSTOMERS
    assert rescored == nine_months.published(sql)
