"""Per-customer churn and lifetime-value scores as of the run's scoring date.

The assets only move data: features and orders come from the marts, `ml.pipeline` trains and scores
(falling back to its run-rate model when LightGBM cannot train, and saying why), and the scores go to
`ml.*` tables with the model version and horizon. A model step never stops the rest of the run: when it
cannot score at all it writes nothing, keeps the previous scores, and fails its check
`trained_model_used` with the error, so the warehouse, the other model and the published copy still
refresh.
"""

import traceback
from collections.abc import Callable
from datetime import date

import dagster as dg
import pandas as pd

from ml.pipeline import ChurnConfig, ClvConfig, ScoringResult, fit_and_score_churn, fit_and_score_clv
from ml.score import RiskBands
from ml.train import ChurnTrainConfig, ClvTrainConfig
from orchestration.lib.dbt import mart_asset_key
from orchestration.lib.deployment import DEPLOYMENT
from orchestration.lib.scoring import ScoringResource
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource

# Snapshots up to the scoring date only: a model scoring a past date never reads a later snapshot.
FEATURES_SQL = "select * from marts.customer_features where snapshot_date <= ?"
# Orders of known customers before the scoring date: the 'unknown' customer (anonymous purchases) is no
# one to score, and labels never look past the scoring date.
ORDERS_SQL = (
    "select order_id, customer_id, ordered_at, net_amount from marts.fct_orders "
    "join marts.dim_customers using (customer_id) where not is_unknown_customer and ordered_at < ?"
)
MODEL_CHECK = "trained_model_used"
# Model steps hold the warehouse pool, so no other step runs beside them: LightGBM may use both cores.
LIGHTGBM_THREADS = 2
_churn = DEPLOYMENT.models.churn
CHURN_CONFIG = ChurnConfig(
    train=ChurnTrainConfig(num_threads=LIGHTGBM_THREADS, horizon_days=_churn.horizon_days),
    risk_bands=RiskBands(medium_from=_churn.risk_bands.medium_from, high_from=_churn.risk_bands.high_from),
)
CLV_CONFIG = ClvConfig(
    train=ClvTrainConfig(num_threads=LIGHTGBM_THREADS, horizon_days=DEPLOYMENT.models.clv.horizon_days)
)
_UPSTREAM = [mart_asset_key(m) for m in ("customer_features", "fct_orders", "dim_customers")]

FitAndScore = Callable[[pd.DataFrame, pd.DataFrame, pd.Timestamp], ScoringResult]


def _model_check(task: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        MODEL_CHECK,
        asset=dg.AssetKey(["ml", task]),
        description="Passes when LightGBM scored; warns when the run-rate fallback scored (with why "
        "LightGBM could not train); errors when nothing could be scored (with the error).",
    )


def _scored(table: str, result: ScoringResult, scoring_date: date) -> dg.MaterializeResult:
    metrics = {k: round(v, 4) if isinstance(v, float) else v for k, v in result.metrics.items()}
    trained = result.model_kind == "lightgbm"
    why = result.fallback_reason or ""
    return dg.MaterializeResult(
        metadata={
            "scoring_date": str(scoring_date),
            "rows": len(result.scores),
            "model": result.model_kind,
            **({"why_not_lightgbm": why} if not trained else {}),
            **{
                k: v
                for k, v in metrics.items()
                if isinstance(v, int | float | str) and k not in ("model_kind", "fallback_reason")
            },
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=MODEL_CHECK,
                passed=trained,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"model": result.model_kind, **({"why": why} if why else {}), "table": table},
            )
        ],
    )


def _fit_score_and_store(
    context: dg.AssetExecutionContext,
    table: str,
    fit_and_score: FitAndScore,
    warehouse: WarehouseResource,
    scoring: ScoringResource,
) -> dg.MaterializeResult:
    """Both models move data the same way: marts in, the scoring date's rows replaced in `table` out."""
    scoring_date = scoring.resolve(warehouse)
    try:
        features = warehouse.read_frame(FEATURES_SQL, [scoring_date])
        if not (pd.to_datetime(features["snapshot_date"]) == pd.Timestamp(scoring_date)).any():
            raise ValueError(
                f"marts.customer_features has no snapshot at the scoring date {scoring_date}: materialize "
                "the warehouse with the same scoring date first"
            )
        orders = warehouse.read_frame(ORDERS_SQL, [scoring_date])
        result = fit_and_score(features, orders, pd.Timestamp(scoring_date))
    except Exception as error:  # a model must never keep the warehouse and the other model from publishing
        context.log.error(f"{table}: no scores for {scoring_date}:\n{traceback.format_exc()}")
        message = f"{type(error).__name__}: {error}"
        return dg.MaterializeResult(
            metadata={"scoring_date": str(scoring_date), "rows": 0, "model": "none", "error": message},
            check_results=[
                dg.AssetCheckResult(
                    check_name=MODEL_CHECK,
                    passed=False,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"error": message, "kept": "the previous scoring dates' scores"},
                )
            ],
        )
    if len(result.scores):
        warehouse.replace_snapshot(table, result.scores, "scoring_date")
    else:
        context.log.warning(f"{table}: nothing to score for {scoring_date}: {result.fallback_reason}")
    return _scored(table, result, scoring_date)


def _description(what: str, horizon_days: int) -> str:
    return f"{what} over the {horizon_days} days after the scoring date (models.*.horizon_days); " + (
        "one row per customer per scoring date, with the model version and horizon_days."
    )


@dg.asset(
    key=["ml", "customer_churn_scores"],
    description=_description(
        "Probability that each customer makes no purchase, with risk band and top reasons,",
        CHURN_CONFIG.train.horizon_days,
    ),
    group_name="ml",
    owners=["team:data-science"],
    kinds={"lightgbm", "duckdb"},
    deps=_UPSTREAM,
    pool=WAREHOUSE_POOL,
    check_specs=[_model_check("customer_churn_scores")],
)
def customer_churn_scores(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, scoring: ScoringResource
) -> dg.MaterializeResult:
    return _fit_score_and_store(
        context,
        "ml.customer_churn_scores",
        lambda features, orders, at: fit_and_score_churn(features, orders, at, CHURN_CONFIG),
        warehouse,
        scoring,
    )


@dg.asset(
    key=["ml", "customer_clv"],
    description=_description(
        "Predicted net revenue of each customer, with CLV decile (1 = top 10%),",
        CLV_CONFIG.train.horizon_days,
    ),
    group_name="ml",
    owners=["team:data-science"],
    kinds={"lightgbm", "duckdb"},
    deps=_UPSTREAM,
    pool=WAREHOUSE_POOL,
    check_specs=[_model_check("customer_clv")],
)
def customer_clv(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, scoring: ScoringResource
) -> dg.MaterializeResult:
    return _fit_score_and_store(
        context,
        "ml.customer_clv",
        lambda features, orders, at: fit_and_score_clv(features, orders, at, CLV_CONFIG),
        warehouse,
        scoring,
    )


ml_assets = [customer_churn_scores, customer_clv]
