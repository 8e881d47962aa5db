"""The run-rate model: churn and CLV from each customer's recent order rate alone, the fallback for when
LightGBM cannot be trained (see `ml.train.lightgbm_blocker`).

For a customer at a snapshot, with the horizon h in days:

    exposure   = clip(tenure_days, min_exposure_days, 365)          days (null tenure: 365)
    rate       = orders_365d / exposure                              orders per day
    P(churn)   = exp(-rate * h)                                      no order in h days, in [0, 1]
    E[orders]  = rate * h
    order value = max(revenue_365d / orders_365d, 0), 0 without orders   currency per order
    CLV        = rate * h * order value                              currency units, >= 0

Orders are taken to arrive as a Poisson process at the customer's own rate of the last year, so a
customer's chance of no order in h days is exp(-rate * h). The exposure is the part of that year the
customer was there to order: capped at 365 days because orders_365d counts no further back, and floored
at `min_exposure_days` (default 90) because a brand-new customer's first order over a few days of tenure
would otherwise read as an absurd rate (one order in 2 days = 180 a year, churn probability ~0). With
the floor, one order claims at most one order per 90 days, P(no order in 90 days) = exp(-1) = 0.37:
a single order is weak evidence of a habit. Null orders or revenue count as none.

It reads only the scoring rows (no labels, no training), so it works with any amount of history, and it
is deterministic. It ignores recency, complaints and engagement, which is why it is only the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.features import KEY_COLUMNS, as_float64, normalize_keys, require_columns
from ml.model import ModelKind, Task, version_of

MIN_EXPOSURE_DAYS = 90
# The look-back of the orders_365d and revenue_365d features the rate is read from (not a horizon).
RATE_WINDOW_DAYS = 365
RATE_COLUMNS: tuple[str, ...] = ("tenure_days", "orders_365d", "revenue_365d")


@dataclass(frozen=True)
class RunRateModel:
    """The run-rate model for one task and horizon (module docstring); a `ScoringModel`.

    `model_version` ('churn-runrate-<hash>' / 'clv-runrate-<hash>') hashes the settings and the rows it was
    built for (`run_rate_model`), so it changes exactly when the scores can.
    """

    task: Task
    horizon_days: int
    model_version: str
    min_exposure_days: int = MIN_EXPOSURE_DAYS

    def __post_init__(self) -> None:
        if self.horizon_days <= 0:
            raise ValueError(f"horizon_days must be positive, got {self.horizon_days}")
        if not 1 <= self.min_exposure_days <= RATE_WINDOW_DAYS:
            raise ValueError(
                f"min_exposure_days must be in [1, {RATE_WINDOW_DAYS}], got {self.min_exposure_days}"
            )

    @property
    def kind(self) -> ModelKind:
        """Which kind of model this is (`ScoringModel`): always 'run_rate'."""
        return "run_rate"

    def daily_order_rate(self, frame: pd.DataFrame) -> np.ndarray:
        """Orders per day of each row of a `customer_features` frame: orders_365d / exposure."""
        require_columns(frame, RATE_COLUMNS)
        tenure = np.nan_to_num(as_float64(frame["tenure_days"]), nan=RATE_WINDOW_DAYS)
        exposure = np.clip(tenure, self.min_exposure_days, RATE_WINDOW_DAYS)
        return np.nan_to_num(as_float64(frame["orders_365d"]), nan=0.0) / exposure

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """One prediction per row: churn P(no order within horizon_days) in [0, 1], or expected net revenue
        over horizon_days (currency units, >= 0)."""
        expected_orders = self.daily_order_rate(frame) * self.horizon_days
        if self.task == "churn":
            return np.exp(-expected_orders)
        return expected_orders * _average_order_value(frame)


def run_rate_model(
    task: Task, horizon_days: int, rows: pd.DataFrame, min_exposure_days: int = MIN_EXPOSURE_DAYS
) -> RunRateModel:
    """The run-rate model for `task` and `horizon_days`, versioned by its settings and the key and
    `RATE_COLUMNS` values of `rows` (the rows it is built to score; any row order or key representation
    gives the same version)."""
    require_columns(rows, KEY_COLUMNS + RATE_COLUMNS)
    inputs = (
        normalize_keys(rows)
        .assign(**{column: as_float64(rows[column]) for column in RATE_COLUMNS})
        .sort_values(list(KEY_COLUMNS), kind="stable", ignore_index=True)
    )
    settings = {
        "task": task,
        "horizon_days": horizon_days,
        "min_exposure_days": min_exposure_days,
        "rate_window_days": RATE_WINDOW_DAYS,
    }
    return RunRateModel(
        task=task,
        horizon_days=horizon_days,
        model_version=version_of(f"{task}-runrate", settings, inputs),
        min_exposure_days=min_exposure_days,
    )


def _average_order_value(frame: pd.DataFrame) -> np.ndarray:
    """Net revenue per order over the last 365 days, clipped at 0; 0 for a customer without orders."""
    orders = np.nan_to_num(as_float64(frame["orders_365d"]), nan=0.0)
    revenue = np.nan_to_num(as_float64(frame["revenue_365d"]), nan=0.0)
    per_order = np.divide(revenue, orders, out=np.zeros_like(revenue), where=orders > 0)
    return np.clip(per_order, 0.0, None)
