"""Scoring of the scoring-date snapshot: churn probability with a risk band, and predicted revenue with a decile.

Any `ScoringModel` scores (LightGBM or the run-rate baseline), and bands and deciles are assigned here, the
same way for both. Every score row carries the model's horizon_days, so no column name claims a horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ml.features import as_ids, snapshot_dates_of
from ml.model import ScoringModel, Task

RISK_BANDS = ("low", "medium", "high")
CHURN_SCORE_COLUMNS = (
    "customer_id",
    "scoring_date",
    "horizon_days",
    "churn_probability",
    "risk_band",
    "model_version",
)
CLV_SCORE_COLUMNS = (
    "customer_id",
    "scoring_date",
    "horizon_days",
    "predicted_revenue",
    "clv_decile",
    "model_version",
)


RiskBandMethod = Literal["probability", "quantile"]


@dataclass(frozen=True)
class RiskBands:
    """How churn probabilities become the low / medium / high risk band.

    - "probability": high if p >= high_from, medium if medium_from <= p < high_from, else low. "High" then
      means the same risk in every run, and a growing high band is a signal (population drift or a real
      churn wave), not hidden by re-ranking; it needs probabilities that mean what they say.
    - "quantile": the `high_share` of the scored customers with the highest probability are high, the
      next `medium_share` medium, the rest low: fixed-size lists for a retention team of fixed capacity,
      whatever the scale of the probabilities. A share of n customers is rounded up (10% of 25 is 3), and
      equal probabilities are split by row order (customer_id when scoring), as `clv_decile` is.

    The fields of the other method are ignored.
    """

    method: RiskBandMethod = "probability"
    medium_from: float = 0.4
    high_from: float = 0.7
    high_share: float = 0.1
    medium_share: float = 0.2

    def __post_init__(self) -> None:
        if self.method not in ("probability", "quantile"):
            raise ValueError(f"method must be 'probability' or 'quantile', got {self.method!r}")
        if not 0.0 < self.medium_from < self.high_from <= 1.0:
            raise ValueError(f"need 0 < medium_from < high_from <= 1, got {self}")
        if not (min(self.high_share, self.medium_share) > 0.0 and self.high_share + self.medium_share <= 1.0):
            raise ValueError(
                f"need high_share > 0, medium_share > 0 and high_share + medium_share <= 1, got {self}"
            )

    def assign(self, churn_probability: np.ndarray) -> np.ndarray:
        """The band name of each probability (of all the customers scored together, for "quantile")."""
        probability = np.asarray(churn_probability, dtype="float64")
        if self.method == "quantile":
            rank = np.empty(probability.size, dtype="int64")  # 0 = highest probability
            rank[np.argsort(-probability, kind="stable")] = np.arange(probability.size)
            n_high = _rounded_up_share(self.high_share, probability.size)
            n_high_or_medium = _rounded_up_share(self.high_share + self.medium_share, probability.size)
            return np.select([rank < n_high, rank < n_high_or_medium], ["high", "medium"], default="low")
        return np.select(
            [probability >= self.high_from, probability >= self.medium_from],
            ["high", "medium"],
            default="low",
        )


def _rounded_up_share(share: float, n: int) -> int:
    """ceil(share x n), but 0.1 x 30 is 3.0000000000000004 in floating point and must stay 3."""
    return min(n, math.ceil(round(share * n, 9)))


def snapshot_rows(features: pd.DataFrame, scoring_date: pd.Timestamp) -> pd.DataFrame:
    """The rows of `features` at snapshot_date == scoring_date, ordered by customer_id; maybe none."""
    at_scoring = features.loc[(snapshot_dates_of(features) == pd.Timestamp(scoring_date)).to_numpy()]
    order = np.argsort(as_ids(at_scoring["customer_id"]).to_numpy(), kind="stable")
    return at_scoring.iloc[order].reset_index(drop=True)


def scoring_snapshot(features: pd.DataFrame, scoring_date: pd.Timestamp) -> pd.DataFrame:
    """`snapshot_rows`, but raises ValueError if there are none: scoring a different snapshot would
    silently serve stale scores."""
    at_scoring = snapshot_rows(features, scoring_date)
    if at_scoring.empty:
        raise ValueError(f"feature frame has no snapshot at scoring_date={pd.Timestamp(scoring_date).date()}")
    return at_scoring


def score_churn(
    model: ScoringModel, features: pd.DataFrame, scoring_date: pd.Timestamp, bands: RiskBands | None = None
) -> pd.DataFrame:
    """`score_churn_rows` of the scoring snapshot of `features` (`scoring_snapshot`, which raises if empty)."""
    return score_churn_rows(model, scoring_snapshot(features, scoring_date), scoring_date, bands)


def score_clv(model: ScoringModel, features: pd.DataFrame, scoring_date: pd.Timestamp) -> pd.DataFrame:
    """`score_clv_rows` of the scoring snapshot of `features` (`scoring_snapshot`, which raises if empty)."""
    return score_clv_rows(model, scoring_snapshot(features, scoring_date), scoring_date)


def score_churn_rows(
    model: ScoringModel, rows: pd.DataFrame, scoring_date: pd.Timestamp, bands: RiskBands | None = None
) -> pd.DataFrame:
    """One row per row of `rows` (the customers at the scoring snapshot, any number, in their order):
    `CHURN_SCORE_COLUMNS`, i.e. customer_id, scoring_date (date), horizon_days (int64), churn_probability
    (P(no order in [scoring_date, + horizon_days)), in [0, 1]), risk_band ('low'/'medium'/'high', see
    `RiskBands`), model_version."""
    probability = _predictions(model, "churn", rows)
    band = pd.Series((bands or RiskBands()).assign(probability), dtype="str")
    frame = _score_frame(model, rows, scoring_date, churn_probability=probability, risk_band=band)
    return frame[list(CHURN_SCORE_COLUMNS)]


def score_clv_rows(model: ScoringModel, rows: pd.DataFrame, scoring_date: pd.Timestamp) -> pd.DataFrame:
    """One row per row of `rows`, as for `score_churn_rows`: `CLV_SCORE_COLUMNS`, i.e. customer_id,
    scoring_date, horizon_days, predicted_revenue (expected net revenue in [scoring_date, + horizon_days),
    currency units, >= 0), clv_decile (1 = the 10% with the highest prediction ... 10 = lowest; equal
    predictions are split by row order, i.e. customer_id, so deciles stay equal-sized), model_version."""
    revenue = _predictions(model, "clv", rows)
    rank = pd.Series(revenue).rank(method="first", ascending=False).to_numpy()
    decile = np.floor((rank - 1) * 10 / max(len(rows), 1)) + 1
    frame = _score_frame(
        model, rows, scoring_date, predicted_revenue=revenue, clv_decile=decile.astype("int64")
    )
    return frame[list(CLV_SCORE_COLUMNS)]


def _predictions(model: ScoringModel, task: Task, rows: pd.DataFrame) -> np.ndarray:
    if model.task != task:
        raise ValueError(f"scoring {task} needs a {task} model, got a {model.task} model")
    if rows.empty:  # a booster cannot predict zero rows
        return np.empty(0, dtype="float64")
    return np.asarray(model.predict(rows), dtype="float64")


def _score_frame(
    model: ScoringModel, rows: pd.DataFrame, scoring_date: pd.Timestamp, **scores: np.ndarray | pd.Series
) -> pd.DataFrame:
    """The columns every score table shares plus the task's `scores`, with the same dtypes when empty."""
    size = len(rows)
    return pd.DataFrame(
        {
            "customer_id": as_ids(rows["customer_id"]).reset_index(drop=True),
            "scoring_date": pd.Series([pd.Timestamp(scoring_date).date()] * size, dtype=object),
            "horizon_days": np.full(size, model.horizon_days, dtype="int64"),
            **scores,
            "model_version": pd.Series([model.model_version] * size, dtype="str"),
        }
    )
