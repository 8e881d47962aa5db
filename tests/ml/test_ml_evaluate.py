"""Ranking metrics and the mapping of customers to the person they really are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.evaluate import (
    calibration_summary,
    evaluate_against_truth,
    majority_person,
    normalized_gini,
    roc_auc,
    top_decile_lift,
)


def test_normalized_gini_bounds(rng: np.random.Generator) -> None:
    revenue = rng.gamma(0.5, 100.0, 500) * (rng.uniform(size=500) < 0.6)
    assert normalized_gini(revenue, revenue) == pytest.approx(1.0)
    assert normalized_gini(revenue, 3 * revenue + 7) == pytest.approx(1.0)
    assert normalized_gini(revenue, -revenue) == pytest.approx(-1.0)
    assert abs(normalized_gini(revenue, rng.uniform(size=500))) < 0.2


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


def test_evaluate_against_truth_uses_the_majority_person() -> None:
    scores = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "churn_probability": [0.9, 0.8, 0.2, 0.1],
            "predicted_revenue_365d": [1.0, 2.0, 30.0, 40.0],
        }
    )
    # c1 has 2 + 3 = 5 orders as p1 against 4 as p3: summed rows decide, not the largest single row.
    customer_person = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c1", "c2", "c3", "c3", "c4", "c5"],
            "person_id": ["p1", "p1", "p3", "p2", "p3", "p1", "p4", "p5"],
            "n_orders": [2, 3, 4, 6, 5, 1, 2, 1],
        }
    )
    outcomes = pd.DataFrame(
        {
            "person_id": ["p1", "p2", "p3", "p4", "p5"],
            "purchases_next_90d": [0, 0, 2, 1, 3],
            "revenue_next_365d": [0.0, 10.0, 300.0, 400.0, 9.0],
        }
    )
    assert majority_person(customer_person).set_index("customer_id")["person_id"].to_dict() == {
        "c1": "p1",
        "c2": "p2",
        "c3": "p3",
        "c4": "p4",
        "c5": "p5",
    }
    metrics = evaluate_against_truth(scores, customer_person, outcomes)
    assert metrics["n_scored"] == 4
    assert metrics["n_matched"] == 4
    assert metrics["churn_auc"] == 1.0
    assert metrics["clv_normalized_gini"] == pytest.approx(1.0)


def test_majority_person_breaks_ties_by_smallest_person_id() -> None:
    customer_person = pd.DataFrame({"customer_id": ["c", "c"], "person_id": [9, 4], "n_orders": [3, 3]})
    assert majority_person(customer_person)["person_id"].tolist() == [4]
