"""Scoring of the scoring-date snapshot: churn probability with a risk band, and predicted revenue with a decile."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.features import snapshot_dates_of
from ml.train import TrainedModel

RISK_BANDS = ("low", "medium", "high")


@dataclass(frozen=True)
class RiskBands:
    """Churn probability thresholds: high if p >= high_from, medium if medium_from <= p < high_from, else low.

    Fixed probabilities rather than quantiles, so "high" means the same risk in every run and a growing
    high band is a signal (population drift or a real churn wave), not hidden by re-ranking.
    """

    medium_from: float = 0.4
    high_from: float = 0.7

    def __post_init__(self) -> None:
        if not 0.0 < self.medium_from < self.high_from <= 1.0:
            raise ValueError(f"need 0 < medium_from < high_from <= 1, got {self}")

    def assign(self, churn_probability: np.ndarray) -> np.ndarray:
        """The band name of each probability."""
        return np.select(
            [churn_probability >= self.high_from, churn_probability >= self.medium_from],
            ["high", "medium"],
            default="low",
        )


def scoring_snapshot(features: pd.DataFrame, scoring_date: pd.Timestamp) -> pd.DataFrame:
    """The rows of `features` at snapshot_date == scoring_date, ordered by customer_id.

    Raises ValueError if there are none: scoring a different snapshot would silently serve stale scores.
    """
    at_scoring = features.loc[(snapshot_dates_of(features) == pd.Timestamp(scoring_date)).to_numpy()]
    if at_scoring.empty:
        raise ValueError(f"feature frame has no snapshot at scoring_date={pd.Timestamp(scoring_date).date()}")
    order = np.argsort(at_scoring["customer_id"].astype(str).to_numpy(), kind="stable")
    return at_scoring.iloc[order].reset_index(drop=True)


def score_churn(
    model: TrainedModel, features: pd.DataFrame, scoring_date: pd.Timestamp, bands: RiskBands | None = None
) -> pd.DataFrame:
    """One row per customer at the scoring snapshot: customer_id, scoring_date, churn_probability
    (P(no order in [scoring_date, + model.horizon_days)), in [0, 1]), risk_band ('low'/'medium'/'high',
    see `RiskBands`), model_version. Ordered by customer_id."""
    if model.task != "churn":
        raise ValueError(f"score_churn needs a churn model, got a {model.task} model")
    rows = scoring_snapshot(features, scoring_date)
    probability = model.predict(rows)
    return pd.DataFrame(
        {
            "customer_id": rows["customer_id"].astype(str),
            "scoring_date": pd.Timestamp(scoring_date).date(),
            "churn_probability": probability,
            "risk_band": (bands or RiskBands()).assign(probability),
            "model_version": model.model_version,
        }
    )


def score_clv(model: TrainedModel, features: pd.DataFrame, scoring_date: pd.Timestamp) -> pd.DataFrame:
    """One row per customer at the scoring snapshot: customer_id, scoring_date, predicted_revenue_365d
    (expected net revenue in [scoring_date, + 365 days), currency units, >= 0), clv_decile (1 = the 10%
    with the highest prediction ... 10 = lowest; equal predictions are split by customer_id so deciles stay
    equal-sized), model_version. Ordered by customer_id."""
    if model.task != "clv":
        raise ValueError(f"score_clv needs a clv model, got a {model.task} model")
    rows = scoring_snapshot(features, scoring_date)
    revenue = model.predict(rows)  # Tweedie's log link: exp(raw score), never negative
    rank = pd.Series(revenue).rank(method="first", ascending=False).to_numpy()
    return pd.DataFrame(
        {
            "customer_id": rows["customer_id"].astype(str),
            "scoring_date": pd.Timestamp(scoring_date).date(),
            "predicted_revenue_365d": revenue,
            "clv_decile": (np.floor((rank - 1) * 10 / len(rows)) + 1).astype("int64"),
            "model_version": model.model_version,
        }
    )
