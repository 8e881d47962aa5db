"""The score tables' contracts as the tests check them, written once: column order, and CLV deciles."""

from __future__ import annotations

import pandas as pd

CHURN_SCORE_COLUMNS = [
    "customer_id",
    "scoring_date",
    "horizon_days",
    "churn_probability",
    "risk_band",
    "model_version",
]
REASON_COLUMNS = [
    "reason_1",
    "reason_2",
    "reason_3",
    "reason_1_contribution",
    "reason_2_contribution",
    "reason_3_contribution",
]
CHURN_RESULT_COLUMNS = [*CHURN_SCORE_COLUMNS, *REASON_COLUMNS]
CLV_SCORE_COLUMNS = [
    "customer_id",
    "scoring_date",
    "horizon_days",
    "predicted_revenue",
    "clv_decile",
    "model_version",
]
CLV_RESULT_COLUMNS = [*CLV_SCORE_COLUMNS, *REASON_COLUMNS]


def assert_equal_sized_deciles_highest_first(scores: pd.DataFrame) -> None:
    """Deciles 1..10 of CLV `scores` differ in size by at most one, and every decile's minimum
    prediction is at least the next one's maximum (decile 1 holds the highest predictions)."""
    sizes = scores["clv_decile"].value_counts()
    assert sorted(sizes.index) == list(range(1, 11))
    assert sizes.max() - sizes.min() <= 1
    by_decile = scores.groupby("clv_decile")["predicted_revenue"]
    assert (by_decile.min().iloc[:-1].to_numpy() >= by_decile.max().iloc[1:].to_numpy()).all()
