"""Ranking metrics and the mapping of customers to the person they really are."""

from __future__ import annotations

import numpy as np
import pytest

from ml.evaluate import (
    calibration_summary,
    normalized_gini,
    roc_auc,
    top_decile_lift,
    top_share_of_actual,
)


def test_normalized_gini_bounds(rng: np.random.Generator) -> None:
    revenue = rng.gamma(0.5, 100.0, 500) * (rng.uniform(size=500) < 0.6)
    assert normalized_gini(revenue, revenue) == pytest.approx(1.0)
    assert normalized_gini(revenue, 3 * revenue + 7) == pytest.approx(1.0)
    assert normalized_gini(revenue, -revenue) == pytest.approx(-1.0)
    assert abs(normalized_gini(revenue, rng.uniform(size=500))) < 0.2
    # All-equal actuals have no order to rank: a clear error, not a division by zero.
    with pytest.raises(ValueError, match="not all equal"):
        normalized_gini(np.full(5, 20.0), np.arange(5))
    with pytest.raises(ValueError, match="not sum to zero"):
        normalized_gini(np.zeros(5), np.arange(5))


def test_normalized_gini_does_not_depend_on_row_order_when_predictions_tie() -> None:
    actual = np.array([0.0, 0.0, 10.0, 5.0, 0.0, 20.0])
    predicted = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 3.0])
    order = np.array([2, 0, 1, 4, 3, 5])
    assert normalized_gini(actual, predicted) == pytest.approx(
        normalized_gini(actual[order], predicted[order])
    )


def test_roc_auc_and_lift() -> None:
    actual = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1])
    assert roc_auc(actual, np.arange(10)) == 1.0
    assert top_decile_lift(actual, np.arange(10)) == pytest.approx(5.0)
    assert top_decile_lift(actual, -np.arange(10)) == 0.0
    with pytest.raises(ValueError, match="both classes"):
        roc_auc(np.zeros(4), np.arange(4))


def test_calibration_summary_bins_cover_all_rows(rng: np.random.Generator) -> None:
    probability = rng.uniform(size=5000)
    outcome = (rng.uniform(size=5000) < probability).astype(int)
    summary = calibration_summary(outcome, probability)
    assert list(summary.columns) == ["bin", "n", "mean_predicted", "mean_actual"]
    assert summary["n"].sum() == 5000
    assert summary["bin"].tolist() == list(range(1, 11))
    assert (summary["mean_actual"] - summary["mean_predicted"]).abs().max() < 0.1


def test_the_top_tenth_of_thirty_rows_is_three() -> None:
    # 0.1 x 30 is 3.0000000000000004 in floating point: the top tenth must still be three rows.
    actual = np.r_[np.ones(3), np.zeros(27)]
    score = np.arange(30, 0, -1, dtype="float64")
    assert top_decile_lift(actual, score) == pytest.approx(1.0 / 0.1)
    assert top_share_of_actual(actual, score) == 1.0
