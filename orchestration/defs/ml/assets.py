"""Per-customer churn and lifetime-value scores as of the run's scoring date, and the BTYD baseline.

The assets only move data: features and orders come from the marts, `ml.pipeline` trains a challenger,
measures it against the champion of `ml.model_registry` and the BTYD baseline on the same holdout and
scores with whichever wins (falling back to BTYD or the run-rate model when LightGBM cannot train, and
saying why); every trained version is stored under `<data_dir>/models` and registered; the scores go
to `ml.*` tables with the model version and horizon. Each model's page shows its report (metrics beside
the baselines, and figures); the same report is published as HTML beside the BI copy. A model step never
stops the rest of the run: when it cannot score at all, or the drift check blocks, it writes nothing,
keeps the previous scores, and fails a check saying why, so the warehouse, the other model and the
published copy still refresh.
"""

import traceback
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from ml.backtest import SCORE_COLUMN, backtest
from ml.btyd import btyd_features, btyd_model, fit_btyd
from ml.drift import drift_summary
from ml.explain import ReasonCodePlan
from ml.model import ScoringModel, Task
from ml.pipeline import (
    BTYD_BASELINE,
    CHAMPION,
    NEW_MODEL,
    ChurnConfig,
    ClvConfig,
    DriftLimits,
    Promotion,
    ScoringResult,
    fit_and_score_churn,
    fit_and_score_clv,
    training_due,
)
from ml.registry import (
    current_champion,
    last_trained_for,
    load_attachments,
    load_model,
    new_record,
    register,
    save_model,
)
from ml.report import (
    BacktestPoint,
    ModelEvaluation,
    build_report,
    figures_markdown,
    metrics_markdown,
    write_report_html,
)
from ml.score import RiskBands, scoring_snapshot
from ml.train import ChurnTrainConfig, ClvTrainConfig
from orchestration.lib.dbt import mart_asset_key
from orchestration.lib.deployment import DEPLOYMENT
from orchestration.lib.scoring import ScoringResource
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource

# The scoring date's snapshot whole, and the snapshots whose outcome window has ended by then (the
# training rows): whole customers kept by a hash of customer_id, a share `$per_million` of them, so the
# frame stays near the model's max_training_rows however many customers and however long the history.
# A model scoring a past date never reads a later snapshot.
FEATURES_SQL = (
    "select * from marts.customer_features where snapshot_date = $scoring_date "
    "or (snapshot_date + to_days($horizon_days) <= $scoring_date "
    "and hash(customer_id) % 1000000 < $per_million)"
)
LABELLED_ROWS_SQL = "select count(*) from marts.customer_features where snapshot_date + to_days($horizon_days) <= $scoring_date"
# The BTYD baseline is fitted on the scoring date's customers alone: no earlier snapshot is read.
SCORING_FEATURES_SQL = "select * from marts.customer_features where snapshot_date = ?"
# Orders of known customers before the scoring date: the 'unknown' customer (anonymous purchases) is no
# one to score, and labels never look past the scoring date.
ORDERS_SQL = (
    "select order_id, customer_id, ordered_at, net_amount from marts.fct_orders "
    "join marts.dim_customers using (customer_id) where not is_unknown_customer and ordered_at < ?"
)
MODEL_CHECK = "trained_model_used"
DRIFT_CHECK = "score_drift"
# Model steps hold the warehouse pool, so no other step runs beside them: LightGBM may use both cores.
LIGHTGBM_THREADS = 2
MODELS_DIR = DEPLOYMENT.paths.data_dir / "models"
REPORTS_DIR = DEPLOYMENT.paths.data_dir / "serving" / "reports"
_models = DEPLOYMENT.models
_PROMOTION = Promotion(**_models.promotion.model_dump())
_DRIFT = DriftLimits(**_models.drift.model_dump())
_REASONS = ReasonCodePlan(currency=DEPLOYMENT.currency.default)
CHURN_CONFIG = ChurnConfig(
    train=ChurnTrainConfig(num_threads=LIGHTGBM_THREADS, horizon_days=_models.churn.horizon_days),
    risk_bands=RiskBands(**_models.churn.risk_bands.model_dump()),
    reason_codes=_REASONS,
    promotion=_PROMOTION,
    drift=_DRIFT,
)
CLV_CONFIG = ClvConfig(
    train=ClvTrainConfig(num_threads=LIGHTGBM_THREADS, horizon_days=_models.clv.horizon_days),
    reason_codes=_REASONS,
    promotion=_PROMOTION,
    drift=_DRIFT,
)
_UPSTREAM = [mart_asset_key(m) for m in ("customer_features", "fct_orders", "dim_customers")]

FitAndScore = Callable[
    [pd.DataFrame, pd.DataFrame, pd.Timestamp, ScoringModel | None, Mapping[str, Any] | None, bool],
    ScoringResult,
]


def _checks(task: str) -> list[dg.AssetCheckSpec]:
    asset = dg.AssetKey(["ml", task])
    return [
        dg.AssetCheckSpec(
            MODEL_CHECK,
            asset=asset,
            description="Passes when LightGBM scored; warns when a fallback scored (the BTYD baseline, or "
            "the run-rate model), with why LightGBM could not train; errors when nothing could be scored.",
        ),
        dg.AssetCheckSpec(
            DRIFT_CHECK,
            asset=asset,
            description="Population stability index of every model input and of the scores against the "
            "scoring model's latest training snapshot: warns from models.drift.warn_at; from "
            "models.drift.block_at (when set) errors and keeps the new scores out.",
        ),
    ]


def _champion(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, task: str
) -> tuple[ScoringModel | None, Mapping[str, Any]]:
    """The registry's champion for `task` and what was stored with it (its drift profile, its report);
    none when there is none yet or its stored file cannot be read (the new model then competes with no
    one, and the log says why)."""
    with warehouse.connect(read_only=True) as con:
        record = current_champion(con, task)  # type: ignore[arg-type]
    if record is None:
        return None, {}
    try:
        path = Path(record.model_path)
        return load_model(path), load_attachments(path)
    except (OSError, ValueError, KeyError) as error:
        context.log.warning(f"champion {record.model_version} unreadable at {record.model_path}: {error}")
        return None, {}


def _register(
    warehouse: WarehouseResource, result: ScoringResult, scoring_date: date, report: Mapping[str, str]
) -> dict[str, Any]:
    """Store the run's new model, with its drift profile and its report (which runs it scores without
    training show), and record it with the decision; metadata saying what happened."""
    new, decision, holdout = result.challenger, result.decision, result.holdout
    if new is None or decision is None or holdout is None:
        return {}
    attachments = {"drift_profile": result.profile, "report": {**report, "trained_for": str(scoring_date)}}
    path = save_model(new, MODELS_DIR, attachments=attachments)
    record = new_record(
        new,
        path,
        decision,
        scoring_date=scoring_date,
        trained_at=datetime.now(UTC).replace(tzinfo=None),
        challenger_metrics=holdout.metrics[NEW_MODEL],
        champion_metrics=holdout.metrics.get(CHAMPION),
        baseline_metrics=holdout.metrics[BTYD_BASELINE],
    )
    with warehouse.connect() as con:
        stored = register(con, record)
    return {"new_model_version": new.model_version, "promotion": stored.decision_reason}


def _backtest(
    warehouse: WarehouseResource, table: str, result: ScoringResult, orders: pd.DataFrame, scoring_date: date
) -> tuple[BacktestPoint, ...]:
    """The published scores of earlier scoring dates whose horizon has ended, graded against what then
    happened, beside the BTYD baseline when it was scored for the same horizon (`ml.backtest`)."""
    task, horizon = result.model.task, result.model.horizon_days
    column = SCORE_COLUMN[task]
    past = (
        f"select customer_id, scoring_date, {column} from {table} where horizon_days = ? and scoring_date < ?"
    )
    btyd = "p_no_order" if task == "churn" else "expected_revenue"
    baseline = (
        f"select customer_id, scoring_date, {btyd} as {column} from ml.customer_btyd "
        "where horizon_days = ? and scoring_date < ?"
    )
    with warehouse.connect(read_only=True) as con:
        tables = {
            row[0]
            for row in con.execute("select schema_name || '.' || table_name from duckdb_tables()").fetchall()
        }
        if table not in tables:
            return ()
        scores = con.execute(past, [horizon, scoring_date]).df()
        baselines = (
            {BTYD_BASELINE: con.execute(baseline, [horizon, scoring_date]).df()}
            if "ml.customer_btyd" in tables
            else {}
        )
    return backtest(task, scores, orders, pd.Timestamp(scoring_date), horizon, baselines)


def _report(
    result: ScoringResult, scoring_date: date, table: str, points: tuple[BacktestPoint, ...]
) -> dict[str, str]:
    """The new model's report as Markdown (metrics table, figures), also written as HTML beside the BI
    copy; empty when the run trained no model."""
    new, holdout = result.challenger, result.holdout
    if new is None or holdout is None:
        return {}
    score_column = "churn_probability" if new.task == "churn" else "predicted_revenue"
    importance = dict(zip(new.booster.feature_name(), new.booster.feature_importance("gain"), strict=True))
    evaluation = ModelEvaluation(
        task=new.task,
        model_version=new.model_version,
        model_label=NEW_MODEL,
        horizon_days=new.horizon_days,
        evaluated_on=holdout.evaluated_on.date(),
        actual=holdout.actual,
        predicted=holdout.predictions[NEW_MODEL],
        baselines={k: v for k, v in holdout.predictions.items() if k != NEW_MODEL},
        feature_importance={k: float(v) for k, v in importance.items()},
        scores=result.scores[score_column].to_numpy(dtype="float64"),
        scoring_date=scoring_date,
        currency=DEPLOYMENT.currency.default,
    )
    report = build_report(evaluation, points)
    write_report_html(report, _report_html(table))
    return {"report_metrics": metrics_markdown(report), "report_figures": figures_markdown(report)}


def _report_html(table: str) -> Path:
    return REPORTS_DIR / f"{table.split('.')[-1]}.html"


def _report_metadata(
    table: str, report: Mapping[str, str], stored: Mapping[str, Any], model: ScoringModel
) -> dict[str, Any]:
    """The report entries of the step's metadata: this run's, or, when it scored without training, the
    report stored with the model that scored (from the run that trained it), saying so."""
    if not report and stored.get("report"):
        note = (
            f"_The report of {model.model_version}, from the run that trained it for "
            f"{stored['report']['trained_for']}: this run scored with it without training._\n\n"
        )
        report = {name: note + stored["report"][name] for name in ("report_metrics", "report_figures")}
    if not report:
        return {}
    return {
        **{name: dg.MetadataValue.md(text) for name, text in report.items()},
        "report_html": dg.MetadataValue.path(str(_report_html(table))),
    }


def _scored(
    table: str, result: ScoringResult, scoring_date: date, extra: Mapping[str, Any], blocked: bool
) -> dg.MaterializeResult:
    metrics = {k: round(v, 4) if isinstance(v, float) else v for k, v in result.metrics.items()}
    trained = result.model_kind == "lightgbm"
    why = result.fallback_reason or ""
    drift = drift_summary(result.drift) if result.drift is not None else None
    return dg.MaterializeResult(
        metadata={
            "scoring_date": str(scoring_date),
            "rows": 0 if blocked else len(result.scores),
            "model": result.model_kind,
            **({"why_not_lightgbm": why} if not trained else {}),
            **{
                k: v
                for k, v in metrics.items()
                if isinstance(v, int | float | str) and k not in ("model_kind", "fallback_reason")
            },
            **extra,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=MODEL_CHECK,
                passed=trained,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"model": result.model_kind, **({"why": why} if why else {}), "table": table},
            ),
            _drift_check(result, drift, blocked),
        ],
    )


def _drift_check(
    result: ScoringResult, drift: Mapping[str, Any] | None, blocked: bool
) -> dg.AssetCheckResult:
    if drift is None or result.drift is None:
        return dg.AssetCheckResult(
            check_name=DRIFT_CHECK,
            passed=True,
            metadata={"note": "no drift profile: the scoring model is a fallback or was not stored with one"},
        )
    worst = result.drift.sort_values("psi", ascending=False).head(10)
    table = "\n".join(
        ["| column | PSI | status |", "|---|---|---|"]
        + [f"| {r.column} | {r.psi:.3f} | {r.status} |" for r in worst.itertuples()]
    )
    return dg.AssetCheckResult(
        check_name=DRIFT_CHECK,
        passed=drift["drift_status"] == "ok",
        severity=dg.AssetCheckSeverity.ERROR if blocked else dg.AssetCheckSeverity.WARN,
        metadata={
            **drift,
            "largest_shifts": dg.MetadataValue.md(table),
            **(
                {"kept": "the previous scoring dates' scores: the new ones were not written"}
                if blocked
                else {}
            ),
        },
    )


def read_features(
    warehouse: WarehouseResource, scoring_date: date, config: ChurnConfig | ClvConfig, train: bool = True
) -> pd.DataFrame:
    """The feature rows a model run reads: with `train`, FEATURES_SQL, the training rows sampled in the
    warehouse, so no step holds every snapshot of every customer; else the scoring snapshot alone."""
    if not train:
        return warehouse.read_frame(SCORING_FEATURES_SQL, [scoring_date])
    horizon = config.train.horizon_days
    parameters = {"scoring_date": scoring_date, "horizon_days": horizon}
    with warehouse.connect(read_only=True) as con:
        labelled = con.execute(LABELLED_ROWS_SQL, parameters).fetchone()
        share = min(1.0, config.max_training_rows / labelled[0]) if labelled and labelled[0] else 1.0
        return con.execute(FEATURES_SQL, {**parameters, "per_million": round(share * 1_000_000)}).df()


def _training(
    warehouse: WarehouseResource,
    scoring: ScoringResource,
    champion: ScoringModel | None,
    task: Task,
    horizon_days: int,
    scoring_date: date,
) -> str | None:
    """Why this run trains a new model (`ml.pipeline.training_due`, or the launchpad's `retrain`), or
    None when the champion scores alone."""
    if scoring.retrain:
        return "asked for in the launchpad (resources.scoring.config.retrain)"
    with warehouse.connect(read_only=True) as con:
        last = last_trained_for(con, task, horizon_days)
    return training_due(
        champion,
        None if last is None else pd.Timestamp(last),
        pd.Timestamp(scoring_date),
        horizon_days,
        _models.retrain_every_days,
    )


def _fit_score_and_store(
    context: dg.AssetExecutionContext,
    table: str,
    fit_and_score: FitAndScore,
    warehouse: WarehouseResource,
    scoring: ScoringResource,
) -> dg.MaterializeResult:
    """Both models move data the same way: marts and the champion in, the scoring date's rows replaced
    in `table`, the new version registered and its report out."""
    scoring_date = scoring.resolve(warehouse)
    task: Task = "churn" if "churn" in table else "clv"
    config = CHURN_CONFIG if task == "churn" else CLV_CONFIG
    try:
        champion, stored = _champion(context, warehouse, task)
        training = _training(warehouse, scoring, champion, task, config.train.horizon_days, scoring_date)
        features = read_features(warehouse, scoring_date, config, train=training is not None)
        if not (pd.to_datetime(features["snapshot_date"]) == pd.Timestamp(scoring_date)).any():
            raise ValueError(
                f"marts.customer_features has no snapshot at the scoring date {scoring_date}: materialize "
                "the warehouse with the same scoring date first"
            )
        orders = warehouse.read_frame(ORDERS_SQL, [scoring_date])
        at = pd.Timestamp(scoring_date)
        train = training is not None
        result = fit_and_score(features, orders, at, champion, stored.get("drift_profile"), train)
        points = _backtest(warehouse, table, result, orders, scoring_date)
        report = _report(result, scoring_date, table, points)
        extra = {
            **_register(warehouse, result, scoring_date, report),
            **_report_metadata(table, report, stored, result.model),
        }
        extra["training"] = training or (
            f"none: the champion {result.model.model_version} scored; a new model challenges it "
            f"every {_models.retrain_every_days} days (models.retrain_every_days)"
        )
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
                ),
                dg.AssetCheckResult(check_name=DRIFT_CHECK, passed=True, metadata={"note": "nothing scored"}),
            ],
        )
    blocked = bool(result.drift is not None and (result.drift["status"] == "block").any())
    if blocked:
        context.log.error(f"{table}: drift above models.drift.block_at; the new scores were not written")
    elif len(result.scores):
        warehouse.replace_snapshot(table, result.scores, "scoring_date")
    else:
        context.log.warning(f"{table}: nothing to score for {scoring_date}: {result.fallback_reason}")
    return _scored(table, result, scoring_date, extra, blocked)


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
    check_specs=_checks("customer_churn_scores"),
)
def customer_churn_scores(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, scoring: ScoringResource
) -> dg.MaterializeResult:
    return _fit_score_and_store(
        context,
        "ml.customer_churn_scores",
        lambda features, orders, at, champion, profile, train: fit_and_score_churn(
            features, orders, at, CHURN_CONFIG, champion, profile, train
        ),
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
    check_specs=_checks("customer_clv"),
)
def customer_clv(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, scoring: ScoringResource
) -> dg.MaterializeResult:
    return _fit_score_and_store(
        context,
        "ml.customer_clv",
        lambda features, orders, at, champion, profile, train: fit_and_score_clv(
            features, orders, at, CLV_CONFIG, champion, profile, train
        ),
        warehouse,
        scoring,
    )


BTYD_CHECK = "btyd_fitted"
_BTYD_COLUMNS = {
    "btyd_p_alive": "p_alive",
    "btyd_expected_orders": "expected_orders",
    "btyd_expected_order_value": "expected_order_value",
    "btyd_expected_revenue": "expected_revenue",
    "btyd_p_no_order": "p_no_order",
}


@dg.asset(
    key=["ml", "customer_btyd"],
    description=(
        "The BTYD baseline (BG/NBD + Gamma-Gamma, ml.btyd) fitted on the customers at the scoring date: "
        "probability each is still active, expected orders, order value and revenue, and the probability "
        f"of no order, over the {CLV_CONFIG.train.horizon_days} days after the scoring date "
        "(models.clv.horizon_days); one row per customer per scoring date."
    ),
    group_name="ml",
    owners=["team:data-science"],
    kinds={"python", "duckdb"},
    deps=_UPSTREAM,
    pool=WAREHOUSE_POOL,
    check_specs=[
        dg.AssetCheckSpec(
            BTYD_CHECK,
            asset=dg.AssetKey(["ml", "customer_btyd"]),
            description="Passes when BG/NBD and Gamma-Gamma were fitted; warns (and keeps the previous "
            "scoring dates' rows) when the history has too few repeat customers, saying how many.",
        )
    ],
)
def customer_btyd(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, scoring: ScoringResource
) -> dg.MaterializeResult:
    scoring_date = scoring.resolve(warehouse)
    horizon = CLV_CONFIG.train.horizon_days
    try:
        features = warehouse.read_frame(SCORING_FEATURES_SQL, [scoring_date])
        at_scoring = scoring_snapshot(features, pd.Timestamp(scoring_date))
        fit = fit_btyd(at_scoring)
    except Exception as error:  # like the models: the baseline never stops the rest from publishing
        context.log.warning(f"ml.customer_btyd: no BTYD fit for {scoring_date}: {error}")
        return dg.MaterializeResult(
            metadata={
                "scoring_date": str(scoring_date),
                "rows": 0,
                "error": f"{type(error).__name__}: {error}",
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=BTYD_CHECK,
                    passed=False,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"why": str(error), "kept": "the previous scoring dates' rows"},
                )
            ],
        )
    predictions = btyd_features(fit, at_scoring, horizon).rename(columns=_BTYD_COLUMNS)
    rows = predictions.rename(columns={"snapshot_date": "scoring_date"}).assign(
        scoring_date=pd.Timestamp(scoring_date).date(),
        horizon_days=horizon,
        model_version=btyd_model("clv", horizon, fit).model_version,
    )
    warehouse.replace_snapshot("ml.customer_btyd", rows, "scoring_date")
    parameters = {**asdict(fit.bgnbd), **{f"gg_{k}": v for k, v in asdict(fit.gamma_gamma).items()}}
    return dg.MaterializeResult(
        metadata={
            "scoring_date": str(scoring_date),
            "rows": len(rows),
            "customers_fitted": fit.n_customers,
            "repeat_customers": fit.n_repeat_customers,
            **{k: round(float(v), 4) for k, v in parameters.items()},
            "expected_revenue_total": round(float(rows["expected_revenue"].sum()), 2),
        },
        check_results=[dg.AssetCheckResult(check_name=BTYD_CHECK, passed=True)],
    )


ml_assets = [customer_churn_scores, customer_clv, customer_btyd]
