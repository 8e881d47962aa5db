"""Per-customer churn and lifetime-value scores, trained and scored at the latest snapshot date.

The assets only move data: features and orders come from the marts, `ml.pipeline` trains and scores,
and the scores go to `ml.*` tables with the model version. Where the demo's truth exists, the scores
are also measured against what customers really did afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg
import pandas as pd

from ml.evaluate import evaluate_against_truth
from ml.pipeline import ChurnConfig, ChurnResult, ClvConfig, ClvResult, fit_and_score_churn, fit_and_score_clv
from ml.train import ChurnTrainConfig, ClvTrainConfig
from orchestration.lib.dbt import mart_asset_key
from orchestration.lib.truth import TruthResource
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource

FEATURES_SQL = "select * from marts.customer_features"
# Orders of known customers only: the 'unknown' customer (anonymous purchases) is no one to score.
ORDERS_SQL = (
    "select order_id, customer_id, ordered_at, net_amount from marts.fct_orders "
    "join marts.dim_customers using (customer_id) where not is_unknown_customer"
)
# Model steps hold the warehouse pool, so no other step runs beside them: LightGBM may use both cores.
LIGHTGBM_THREADS = 2
CHURN_CONFIG = ChurnConfig(train=ChurnTrainConfig(num_threads=LIGHTGBM_THREADS))
CLV_CONFIG = ClvConfig(train=ClvTrainConfig(num_threads=LIGHTGBM_THREADS))
_UPSTREAM = [mart_asset_key(m) for m in ("customer_features", "fct_orders", "dim_customers")]


def _truth_metrics(
    scores: pd.DataFrame, orders: pd.DataFrame, truth: TruthResource
) -> dict[str, float | int]:
    outcomes, order_persons = truth.outcomes(), truth.order_persons()
    if outcomes is None or order_persons is None:
        return {}
    customer_person = (
        orders.merge(order_persons, on="order_id")
        .groupby(["customer_id", "person_id"], as_index=False)
        .agg(n_orders=("order_id", "size"))
    )
    return {f"truth_{k}": v for k, v in evaluate_against_truth(scores, customer_person, outcomes).items()}


def scoring_date_of(features: pd.DataFrame) -> pd.Timestamp:
    """The latest snapshot in the features mart is the scoring date (dbt's `scoring_date` var)."""
    if features.empty:
        raise ValueError("marts.customer_features is empty: there is nothing to train on or score")
    return pd.Timestamp(features["snapshot_date"].max())


def _metadata(result: ChurnResult | ClvResult, truth_metrics: dict[str, float | int]) -> dict[str, Any]:
    return {
        "model_version": result.model.model_version,
        "scoring_date": str(result.scores["scoring_date"].max()),
        "rows": len(result.scores),
        **{k: v for k, v in result.metrics.items() if isinstance(v, int | float)},
        **truth_metrics,
    }


def _fit_score_and_store(
    table: str,
    fit_and_score: Callable[[pd.DataFrame, pd.DataFrame], ChurnResult | ClvResult],
    warehouse: WarehouseResource,
    truth: TruthResource,
) -> dg.MaterializeResult:
    """Both models move data the same way: marts in, one scoring date's rows replaced in `table` out."""
    features, orders = warehouse.read_frame(FEATURES_SQL), warehouse.read_frame(ORDERS_SQL)
    result = fit_and_score(features, orders)
    warehouse.replace_snapshot(table, result.scores, "scoring_date")
    return dg.MaterializeResult(metadata=_metadata(result, _truth_metrics(result.scores, orders, truth)))


@dg.asset(
    key=["ml", "customer_churn_scores"],
    description="Probability that each customer makes no purchase in the 90 days after the scoring date, "
    "with risk band, top reasons and model version; one row per customer per scoring date.",
    group_name="ml",
    owners=["team:data-science"],
    kinds={"lightgbm", "duckdb"},
    deps=_UPSTREAM,
    pool=WAREHOUSE_POOL,
)
def customer_churn_scores(warehouse: WarehouseResource, truth: TruthResource) -> dg.MaterializeResult:
    return _fit_score_and_store(
        "ml.customer_churn_scores",
        lambda features, orders: fit_and_score_churn(
            features, orders, scoring_date_of(features), CHURN_CONFIG
        ),
        warehouse,
        truth,
    )


@dg.asset(
    key=["ml", "customer_clv"],
    description="Predicted net revenue of each customer over the 365 days after the scoring date, with "
    "CLV decile (1 = top 10%) and model version; one row per customer per scoring date.",
    group_name="ml",
    owners=["team:data-science"],
    kinds={"lightgbm", "duckdb"},
    deps=_UPSTREAM,
    pool=WAREHOUSE_POOL,
)
def customer_clv(warehouse: WarehouseResource, truth: TruthResource) -> dg.MaterializeResult:
    return _fit_score_and_store(
        "ml.customer_clv",
        lambda features, orders: fit_and_score_clv(features, orders, scoring_date_of(features), CLV_CONFIG),
        warehouse,
        truth,
    )


ml_assets = [customer_churn_scores, customer_clv]
