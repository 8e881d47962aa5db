"""Risk bands: fixed churn-probability thresholds, or fixed shares of the scored customers by rank."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from ml.model import ModelKind, Task
from ml.score import RiskBands, score_churn_rows


def test_probability_bands_are_thresholds_including_their_lower_bound() -> None:
    probability = np.array([0.0, 0.3999, 0.4, 0.6999, 0.7, 1.0])
    assert RiskBands().assign(probability).tolist() == ["low", "low", "medium", "medium", "high", "high"]
    assert RiskBands(medium_from=0.2, high_from=0.5).assign(np.array([0.1, 0.3, 0.6])).tolist() == [
        "low",
        "medium",
        "high",
    ]


def test_quantile_bands_take_the_top_shares_by_rank(rng: np.random.Generator) -> None:
    # 30 customers: 10% and 20% are 3 and 6 exactly, though 0.1 * 30 and 0.3 * 30 are a hair above in
    # floating point (rounding them up would give 4 and 10).
    probability = rng.permutation(np.linspace(0.01, 0.3, 30))
    bands = RiskBands(method="quantile").assign(probability)
    order = np.argsort(-probability)
    assert bands[order].tolist() == ["high"] * 3 + ["medium"] * 6 + ["low"] * 21
    # Only the rank counts, not the scale: the same bands for probabilities squeezed towards 0.
    assert np.array_equal(RiskBands(method="quantile").assign(probability / 100), bands)


def test_quantile_shares_round_up() -> None:
    bands = RiskBands(method="quantile", high_share=0.1, medium_share=0.2)
    counts = pd.Series(bands.assign(np.linspace(1, 0, 25))).value_counts()
    assert counts.to_dict() == {"high": 3, "medium": 5, "low": 17}  # ceil(2.5) and ceil(7.5) - 3
    assert bands.assign(np.array([0.2])).tolist() == ["high"]
    assert bands.assign(np.empty(0)).tolist() == []
    assert RiskBands(method="quantile", high_share=0.5, medium_share=0.5).assign(np.zeros(3)).tolist() == [
        "high",
        "high",
        "medium",
    ]


def test_equal_probabilities_are_split_by_row_order() -> None:
    # 50 rows (enough for numpy's default, unstable sort to reorder ties): 5 high, the next 10 medium.
    probability = np.full(50, 0.5)
    probability[[7, 30]] = 0.9
    probability[0] = 0.1
    bands = RiskBands(method="quantile").assign(probability)
    assert np.flatnonzero(bands == "high").tolist() == [1, 2, 3, 7, 30]
    assert np.flatnonzero(bands == "medium").tolist() == [4, 5, 6, *range(8, 15)]
    assert bands[0] == "low"


def test_bad_bands_are_refused() -> None:
    with pytest.raises(ValueError, match="method must be"):
        RiskBands(method="rank")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="medium_from < high_from"):
        RiskBands(medium_from=0.7, high_from=0.4)
    with pytest.raises(ValueError, match="high_share \\+ medium_share <= 1"):
        RiskBands(method="quantile", high_share=0.6, medium_share=0.5)
    with pytest.raises(ValueError, match="medium_share > 0"):
        RiskBands(method="quantile", medium_share=0.0)


@dataclass(frozen=True)
class FixedChurnModel:
    """A churn model whose prediction is the row's `p` column."""

    kind: ModelKind = "run_rate"
    task: Task = "churn"
    horizon_days: int = 90
    model_version: str = "fixed-1"

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return frame["p"].to_numpy(dtype="float64")


def test_scores_carry_quantile_bands_over_all_the_scored_customers() -> None:
    rows = pd.DataFrame({"customer_id": [f"c{i:02d}" for i in range(20)], "p": np.linspace(0.02, 0.2, 20)})
    scores = score_churn_rows(
        FixedChurnModel(), rows, pd.Timestamp("2024-06-01"), RiskBands(method="quantile")
    )
    assert scores.set_index("customer_id")["risk_band"].to_dict() == {
        **{f"c{i:02d}": "low" for i in range(14)},
        **{f"c{i:02d}": "medium" for i in range(14, 18)},
        "c18": "high",
        "c19": "high",
    }
    # The default bands are probability thresholds, which no customer here reaches.
    assert (score_churn_rows(FixedChurnModel(), rows, pd.Timestamp("2024-06-01"))["risk_band"] == "low").all()
