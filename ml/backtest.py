"""Backtests over time: the scores each past scoring date published, against what those customers then did.

Every scoring run keeps its scores (one row per customer per scoring date), so once a past date's horizon
has passed, its scores can be graded exactly as they were published, with no refit and no leakage: score
every month of last year (one run per scoring date, e.g. from the launchpad's `scoring_date`) and the next
run's report follows each month's metrics.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ml.features import as_ids, as_timestamps
from ml.labels import CHURN_LABEL, CLV_LABEL, churn_labels, clv_labels
from ml.model import Task
from ml.report import BacktestPoint, ModelEvaluation, backtest_points

SCORE_COLUMN: Mapping[Task, str] = {"churn": "churn_probability", "clv": "predicted_revenue"}


def backtest(
    task: Task,
    scores: pd.DataFrame,
    orders: pd.DataFrame,
    observed_until: pd.Timestamp,
    horizon_days: int,
    baselines: Mapping[str, pd.DataFrame] | None = None,
) -> tuple[BacktestPoint, ...]:
    """The report's metrics of each past scoring date in `scores` whose horizon ended by `observed_until`.

    `scores`: customer_id, scoring_date and the task's score column (`SCORE_COLUMN`), as the score tables
    hold them, all for `horizon_days`; `orders`: `fct_orders` rows (order_id, customer_id, ordered_at,
    net_amount) complete before `observed_until`. `baselines`: label -> frames of the same shape scored
    for the same horizon (e.g. the BTYD baseline's), graded on the same customers; a baseline that did not
    score every published customer of a date sits that date out. Dates whose window has not ended by
    `observed_until` are skipped.
    """
    points: list[BacktestPoint] = []
    column = SCORE_COLUMN[task]
    dates = sorted(set(as_timestamps(scores["scoring_date"])))
    horizon = pd.Timedelta(days=horizon_days)
    for scoring_date in (d for d in dates if d + horizon <= pd.Timestamp(observed_until)):
        published = _at(scores, scoring_date, column)
        actual = _outcomes(task, scoring_date, published, orders, observed_until, horizon_days)
        compared = {
            label: aligned
            for label, frame in (baselines or {}).items()
            if (aligned := _aligned(_at(frame, scoring_date, column), published)) is not None
        }
        evaluation = ModelEvaluation(
            task=task,
            model_version="as published",
            model_label="published scores",
            horizon_days=horizon_days,
            evaluated_on=scoring_date.date(),
            actual=actual,
            predicted=published[column].to_numpy(dtype="float64"),
            baselines=compared,
        )
        points.extend(backtest_points(evaluation))
    return tuple(points)


def _at(frame: pd.DataFrame, scoring_date: pd.Timestamp, column: str) -> pd.DataFrame:
    at_date = frame.loc[(as_timestamps(frame["scoring_date"]) == scoring_date).to_numpy()]
    ids = as_ids(at_date["customer_id"])
    return (
        pd.DataFrame({"customer_id": ids.to_numpy(), column: at_date[column].to_numpy(dtype="float64")})
        .dropna()
        .sort_values("customer_id", kind="stable", ignore_index=True)
    )


def _outcomes(
    task: Task,
    scoring_date: pd.Timestamp,
    published: pd.DataFrame,
    orders: pd.DataFrame,
    observed_until: pd.Timestamp,
    horizon_days: int,
) -> np.ndarray:
    """What each published customer did in the window: churned (0/1), or net revenue floored at 0 as
    the models are trained."""
    keys = pd.DataFrame({"customer_id": published["customer_id"], "snapshot_date": scoring_date})
    if task == "churn":
        return churn_labels(keys, orders, observed_until, horizon_days)[CHURN_LABEL].to_numpy(dtype="float64")
    revenue = clv_labels(keys, orders, observed_until, horizon_days)[CLV_LABEL].to_numpy(dtype="float64")
    return np.clip(revenue, 0.0, None)


def _aligned(baseline: pd.DataFrame, published: pd.DataFrame) -> np.ndarray | None:
    merged = published[["customer_id"]].merge(baseline, on="customer_id", how="left")
    values = merged.iloc[:, 1].to_numpy(dtype="float64")
    return None if np.isnan(values).any() else values
