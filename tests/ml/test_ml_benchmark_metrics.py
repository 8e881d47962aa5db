"""The benchmark metrics of the model-reference table on small hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ml.evaluate import (
    BENCHMARK_METRICS,
    benchmark_metrics,
    decile_mape,
    log_loss,
    top_share_of_actual,
    total_spend_error,
)


def test_log_loss_is_the_mean_negative_log_likelihood() -> None:
    expected = -(math.log(0.8) + math.log(1 - 0.4) + math.log(0.5)) / 3
    assert log_loss([1, 0, 1], [0.8, 0.4, 0.5]) == pytest.approx(expected)


def test_log_loss_clips_certain_misses_instead_of_returning_infinity() -> None:
    assert log_loss([1, 0], [0.0, 1.0]) == pytest.approx(-math.log(1e-15), rel=1e-2)
    assert log_loss([1, 0], [1.0, 0.0]) == pytest.approx(0.0, abs=1e-12)


def test_log_loss_refuses_scores_that_are_not_probabilities() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        log_loss([1, 0], [0.5, 1.5])


def test_total_spend_error_is_the_relative_error_of_the_sum() -> None:
    assert total_spend_error([10.0, 30.0, 0.0], [5.0, 20.0, 7.0]) == pytest.approx(32 / 40 - 1)
    with pytest.raises(ValueError, match="sum to zero"):
        total_spend_error([0.0, 0.0], [1.0, 2.0])


def test_decile_mape_compares_sums_within_groups_ranked_by_prediction() -> None:
    # Two groups of two: predictions rank rows 1, 3 low and rows 0, 2 high.
    actual = [10.0, 4.0, 30.0, 6.0]
    predicted = [20.0, 1.0, 25.0, 2.0]
    low = abs((1.0 + 2.0) - (4.0 + 6.0)) / (4.0 + 6.0)
    high = abs((20.0 + 25.0) - (10.0 + 30.0)) / (10.0 + 30.0)
    assert decile_mape(actual, predicted, n_groups=2) == pytest.approx((low + high) / 2)


def test_decile_mape_splits_ties_in_row_order_ascending() -> None:
    # All predictions equal: rows 0..4 form the low group, 5..9 the high group, in row order.
    actual = np.array([1.0] * 5 + [3.0] * 5)
    predicted = np.full(10, 2.0)
    expected = (abs(10 - 5) / 5 + abs(10 - 15) / 15) / 2
    assert decile_mape(actual, predicted, n_groups=2) == pytest.approx(expected)


def test_decile_mape_uses_floor_of_ten_i_over_n_for_uneven_groups() -> None:
    # 12 rows into 10 groups: positions 0..11 -> floor(10 i / 12) = 0,0,1,2,3,4,5,5,6,7,8,9.
    actual = np.arange(1.0, 13.0)
    predicted = np.arange(1.0, 13.0)  # perfect: every group's sums agree
    assert decile_mape(actual, predicted) == 0.0
    doubled = decile_mape(actual, 2 * predicted)
    assert doubled == pytest.approx(1.0)


def test_decile_mape_refuses_a_group_without_actual_spend() -> None:
    with pytest.raises(ValueError, match=r"group\(s\) 1"):
        decile_mape([0.0, 0.0, 5.0, 5.0], [1.0, 2.0, 3.0, 4.0], n_groups=2)
    with pytest.raises(ValueError, match="at least"):
        decile_mape([1.0, 2.0], [1.0, 2.0])


def test_top_share_is_the_actual_spend_of_the_top_predicted_tenth() -> None:
    actual = np.array([100.0, 0.0, 50.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 50.0, 0.0])
    predicted = np.array([1.0, 9.0, 8.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    # ceil(0.1 x 11) = 2 customers: rows 1 and 2 -> 50 of 200.
    assert top_share_of_actual(actual, predicted) == pytest.approx(0.25)
    assert top_share_of_actual(actual, predicted, fraction=0.3) == pytest.approx(0.75)


def test_benchmark_metrics_returns_the_whole_row() -> None:
    rng = np.random.default_rng(3)
    churned = rng.integers(0, 2, 200)
    p_churn = np.clip(0.3 + 0.4 * churned + rng.normal(0, 0.2, 200), 0.01, 0.99)
    spend = rng.gamma(2.0, 20.0, 200) * (1 - 0.9 * churned)
    predicted = spend * 0.9 + rng.gamma(1.0, 2.0, 200)
    row = benchmark_metrics(churned, p_churn, spend, predicted)
    assert tuple(row) == BENCHMARK_METRICS
    assert row["churn_log_loss"] == pytest.approx(log_loss(churned, p_churn))
    assert row["total_spend_error"] == pytest.approx(predicted.sum() / spend.sum() - 1)
    assert all(isinstance(value, float) for value in row.values())


def test_benchmark_metrics_leaves_log_loss_out_for_a_ranking_score() -> None:
    churned = np.array([1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0])
    recency_days = np.array([200.0, 5, 150, 30, 10, 90, 20, 40, 300, 1, 120, 15])
    spend = np.array([1.0, 20, 2, 15, 30, 3, 10, 5, 4, 50, 6, 25])
    row = benchmark_metrics(churned, recency_days, spend, spend + 1.0, churn_score_is_probability=False)
    assert row["churn_log_loss"] is None
    assert row["churn_auc"] == 1.0
