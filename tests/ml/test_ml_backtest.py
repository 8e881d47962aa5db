"""Backtests grade the scores each past scoring date published against what then happened, only once the
window is over, and beside a baseline scored for the same customers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.backtest import backtest
from ml.baseline import run_rate_model
from ml.evaluate import normalized_gini, roc_auc
from ml.labels import churn_labels, clv_labels
from ml.synthetic import SyntheticCustomers, make_customer_frames


@pytest.fixture(scope="module")
def history() -> SyntheticCustomers:
    return make_customer_frames(n_customers=600, seed=21)


def _published(history: SyntheticCustomers, task: str, horizon: int) -> pd.DataFrame:
    """What the run-rate model would have published at every snapshot date, as the score tables hold it."""
    column = "churn_probability" if task == "churn" else "predicted_revenue"
    frames = []
    for date, rows in history.features.groupby("snapshot_date"):
        predicted = run_rate_model(task, horizon, rows).predict(rows)  # type: ignore[arg-type]
        frames.append(
            pd.DataFrame({"customer_id": rows["customer_id"], "scoring_date": date, column: predicted})
        )
    return pd.concat(frames, ignore_index=True)


def test_each_finished_window_is_graded_as_published(history: SyntheticCustomers) -> None:
    horizon = 90
    scores = _published(history, "churn", horizon)
    points = backtest("churn", scores, history.orders, history.scoring_date, horizon)
    dates = sorted({p.scoring_date for p in points})
    finished = [
        d.date()
        for d in sorted(scores["scoring_date"].unique())
        if d + pd.Timedelta(days=horizon) <= history.scoring_date
    ]
    assert dates == finished and len(dates) >= 3
    first = pd.Timestamp(dates[0])
    at_first = scores.loc[scores["scoring_date"] == first].sort_values("customer_id")
    truth = churn_labels(
        at_first.rename(columns={"scoring_date": "snapshot_date"}), history.orders, history.scoring_date
    )
    auc = next(p.value for p in points if p.scoring_date == dates[0] and p.metric == "churn_auc")
    assert auc == pytest.approx(
        roc_auc(truth["churned"].to_numpy(), at_first["churn_probability"].to_numpy())
    )


def test_a_baseline_is_graded_beside_the_published_scores(history: SyntheticCustomers) -> None:
    horizon = 60
    scores = _published(history, "clv", horizon)
    noise = scores.assign(predicted_revenue=np.random.default_rng(0).uniform(size=len(scores)))
    points = backtest("clv", scores, history.orders, history.scoring_date, horizon, {"noise": noise})
    gini = {(p.scoring_date, p.series): p.value for p in points if p.metric == "spend_normalized_gini"}
    dates = sorted({d for d, _ in gini})
    assert all((d, "noise") in gini for d in dates)
    last = pd.Timestamp(dates[-1])
    at_last = scores.loc[scores["scoring_date"] == last].sort_values("customer_id")
    revenue = clv_labels(
        at_last.rename(columns={"scoring_date": "snapshot_date"}),
        history.orders,
        history.scoring_date,
        horizon,
    )["future_net_revenue"].clip(lower=0)
    expected = normalized_gini(revenue.to_numpy(), at_last["predicted_revenue"].to_numpy())
    assert gini[(dates[-1], "published scores")] == pytest.approx(expected)
    assert gini[(dates[-1], "published scores")] > gini[(dates[-1], "noise")]


def test_nothing_to_grade_before_any_window_ends(history: SyntheticCustomers) -> None:
    scores = _published(history, "churn", 90)
    latest = scores.loc[scores["scoring_date"] == scores["scoring_date"].max()]
    assert backtest("churn", latest, history.orders, history.scoring_date, 90) == ()
