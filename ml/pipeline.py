"""The two entry points orchestration calls: label, train, score (and explain) one model for one scoring date.

Time semantics: everything is relative to `scoring_date`. Orders are taken to be complete before it, so a
snapshot T is a training row only if its label window [T, T + horizon) ends on or before the scoring date;
the scoring-date snapshot itself is scored. Orders at or after the scoring date are never read, which
makes a backfill for a past date see exactly what a run on that date saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.explain import ReasonCodePlan, explain_churn_scores
from ml.features import snapshot_dates_of
from ml.labels import CLV_HORIZON_DAYS, churn_labels, clv_labels, labelable_snapshot_dates
from ml.score import RISK_BANDS, RiskBands, score_churn, score_clv, scoring_snapshot
from ml.train import ChurnTrainConfig, ClvTrainConfig, TrainedModel, train_churn_model, train_clv_model

Metrics = dict[str, float | int | str]


@dataclass(frozen=True)
class ChurnConfig:
    """Everything that shapes a churn run. `max_training_rows` bounds memory and training time on big
    customer bases: beyond it, whole customers are sampled (see `training_customer_sample`)."""

    train: ChurnTrainConfig = field(default_factory=ChurnTrainConfig)
    risk_bands: RiskBands = field(default_factory=RiskBands)
    reason_codes: ReasonCodePlan = field(default_factory=ReasonCodePlan)
    max_training_rows: int = 1_000_000


@dataclass(frozen=True)
class ClvConfig:
    """Everything that shapes a CLV run; `max_training_rows` as in `ChurnConfig`."""

    train: ClvTrainConfig = field(default_factory=ClvTrainConfig)
    max_training_rows: int = 1_000_000


@dataclass(frozen=True)
class ChurnResult:
    """`scores`: customer_id, scoring_date, churn_probability, risk_band, model_version, reason_1..reason_3
    (null outside the reason-code plan), one row per customer at the scoring snapshot."""

    scores: pd.DataFrame
    model: TrainedModel
    metrics: Metrics


@dataclass(frozen=True)
class ClvResult:
    """`scores`: customer_id, scoring_date, predicted_revenue_365d, clv_decile, model_version, one row per
    customer at the scoring snapshot."""

    scores: pd.DataFrame
    model: TrainedModel
    metrics: Metrics


def fit_and_score_churn(
    features: pd.DataFrame,
    orders: pd.DataFrame,
    scoring_date: pd.Timestamp,
    config: ChurnConfig | None = None,
) -> ChurnResult:
    """Train the churn model on every fully labelled snapshot before `scoring_date`, then score and explain
    the snapshot at `scoring_date`.

    `features`: the `customer_features` mart (all snapshots); `orders`: `fct_orders`, complete before
    `scoring_date`. Raises ValueError if fewer than two snapshots are labelled or the scoring snapshot is
    missing. Metrics: the model's validation metrics plus row and snapshot counts, n_scored, n_explained and
    the number of customers per risk band.
    """
    settings = config or ChurnConfig()
    scoring = pd.Timestamp(scoring_date)
    training = training_rows(features, scoring, settings.train.horizon_days, settings.max_training_rows)
    model = train_churn_model(
        training, churn_labels(training, orders, scoring, settings.train.horizon_days), settings.train
    )
    at_scoring = scoring_snapshot(features, scoring)
    scores = score_churn(model, at_scoring, scoring, settings.risk_bands)
    reasons = explain_churn_scores(model, at_scoring, scores, settings.reason_codes)
    scores = pd.concat([scores, reasons.drop(columns="customer_id")], axis=1)
    metrics = _run_metrics(model, scores)
    metrics["n_explained"] = int(scores["reason_1"].notna().sum())
    for band in RISK_BANDS:
        metrics[f"n_{band}_risk"] = int((scores["risk_band"] == band).sum())
    return ChurnResult(scores=scores, model=model, metrics=metrics)


def fit_and_score_clv(
    features: pd.DataFrame, orders: pd.DataFrame, scoring_date: pd.Timestamp, config: ClvConfig | None = None
) -> ClvResult:
    """Train the CLV model on every snapshot at least 365 days before `scoring_date`, then score the
    snapshot at `scoring_date`. Inputs, errors and metrics as for `fit_and_score_churn` (without the
    churn-only counts)."""
    settings = config or ClvConfig()
    scoring = pd.Timestamp(scoring_date)
    training = training_rows(features, scoring, CLV_HORIZON_DAYS, settings.max_training_rows)
    model = train_clv_model(training, clv_labels(training, orders, scoring, CLV_HORIZON_DAYS), settings.train)
    scores = score_clv(model, scoring_snapshot(features, scoring), scoring)
    return ClvResult(scores=scores, model=model, metrics=_run_metrics(model, scores))


def training_rows(
    features: pd.DataFrame, scoring_date: pd.Timestamp, horizon_days: int, max_rows: int
) -> pd.DataFrame:
    """The rows of `features` whose snapshot's label window ends on or before `scoring_date`, thinned to
    about `max_rows` by `training_customer_sample` when there are more."""
    snapshot_dates = snapshot_dates_of(features)
    dates = labelable_snapshot_dates(snapshot_dates.unique(), scoring_date, horizon_days)
    eligible = features.loc[snapshot_dates.isin(dates).to_numpy()]
    if len(eligible) <= max_rows:
        return eligible
    return eligible.loc[training_customer_sample(eligible["customer_id"], max_rows / len(eligible))]


def training_customer_sample(customer_ids: pd.Series, fraction: float) -> np.ndarray:
    """Boolean mask keeping about `fraction` of customers, decided by a hash of customer_id.

    Whole customers, so no customer's snapshots end up split; by hash, so the same customers are kept on
    every run and the sample (and the model version) does not change unless the data does.
    """
    hashes = pd.util.hash_pandas_object(customer_ids.astype(str), index=False).to_numpy()
    return np.asarray(hashes / np.float64(2**64) < fraction)


def _run_metrics(model: TrainedModel, scores: pd.DataFrame) -> Metrics:
    return {
        **model.metrics,
        "model_version": model.model_version,
        "best_iteration": model.best_iteration,
        "n_training_rows": model.n_training_rows,
        "n_validation_rows": model.n_validation_rows,
        "n_training_snapshots": len(model.training_snapshot_dates),
        "first_training_snapshot": model.training_snapshot_dates[0].date().isoformat(),
        "validation_snapshot": model.validation_snapshot_date.date().isoformat(),
        "n_scored": len(scores),
    }
