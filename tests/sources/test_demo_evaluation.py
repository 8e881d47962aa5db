"""Pairwise precision and recall of resolved customers against the demo truth, on hand-made frames."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from sources.demo.evaluation import identity_precision_recall, majority_person, model_quality


def bridge(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "source_id", "customer_id"])


def truth(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "source_id", "person_id"])


# P1: an account, a contact and a loyalty card; P2: an account and a contact
PEOPLE_RECORDS = [
    ("customer_accounts", "A000001", "P1"),
    ("contacts", "C000001", "P1"),
    ("loyalty_members", "L00000001", "P1"),
    ("customer_accounts", "A000002", "P2"),
    ("contacts", "C000002", "P2"),
]
TRUTH = truth(
    *PEOPLE_RECORDS,
    ("orders", "O000000001", "P1"),  # no bridge counterpart: not judged
)


def resolved_as(*customer_ids: str | None) -> list[tuple[str, str, str]]:
    """Bridge rows giving each record of PEOPLE_RECORDS, in order, the customer id at its place (None: no row)."""
    return [
        (source, source_id, customer_id)
        for (source, source_id, _), customer_id in zip(PEOPLE_RECORDS, customer_ids, strict=True)
        if customer_id is not None
    ]


def test_perfect_resolution_scores_one() -> None:
    quality = identity_precision_recall(
        bridge(
            *resolved_as("x", "x", "x", "y", "y"),
            ("guest_email", "abc", "x"),  # no truth counterpart: not judged
        ),
        TRUTH,
    )
    assert (quality.precision, quality.recall, quality.f1) == (1.0, 1.0, 1.0)
    assert (quality.records_compared, quality.bridge_records_without_truth) == (5, 1)
    assert quality.truth_records_without_bridge == 0


def test_split_person_lowers_recall_only() -> None:
    # P1's card resolved to its own customer: pairs (A1,C1) kept, (A1,L1) and (C1,L1) lost
    quality = identity_precision_recall(bridge(*resolved_as("x", "x", "z", "y", "y")), TRUTH)
    assert (quality.true_pairs, quality.predicted_pairs, quality.correct_pairs) == (4, 2, 2)
    assert quality.precision == 1.0
    assert quality.recall == pytest.approx(0.5)


def test_merged_people_lower_precision_only() -> None:
    # everyone in one customer: 10 predicted pairs, 4 of them real
    quality = identity_precision_recall(bridge(*resolved_as("x", "x", "x", "x", "x")), TRUTH)
    assert (quality.predicted_pairs, quality.correct_pairs) == (10, 4)
    assert quality.precision == pytest.approx(0.4)
    assert quality.recall == 1.0


def test_ids_match_after_the_warehouse_normalisation_and_missing_records_are_counted() -> None:
    # the warehouse trims and upper-cases ids; C000002 never reached it (e.g. a quarantined row)
    quality = identity_precision_recall(
        bridge(*resolved_as("x", "x", "x", "y", None)),
        truth(
            ("customer_accounts", " a000001", "P1"),
            ("contacts", "c000001 ", "P1"),
            ("loyalty_members", "l00000001", "P1"),
            ("customer_accounts", "a000002", "P2"),
            ("contacts", "c000002", "P2"),
        ),
    )
    assert (quality.records_compared, quality.truth_records_without_bridge) == (4, 1)
    assert (quality.precision, quality.recall) == (1.0, 1.0)


def test_no_pairs_to_judge_scores_one() -> None:
    quality = identity_precision_recall(
        bridge(("customer_accounts", "A000001", "x")), truth(("customer_accounts", "A000001", "P1"))
    )
    assert (quality.predicted_pairs, quality.true_pairs, quality.precision, quality.recall) == (
        0,
        0,
        1.0,
        1.0,
    )


# --- models against the truth ------------------------------------------------------------------------

SCORING_DATE = date(2024, 7, 1)
TRUTH_ENDS = date(2025, 7, 1)
# c1 has 2 + 3 = 5 orders as p1 against 4 as p3: summed rows decide, not the largest single row.
CUSTOMER_PERSON = pd.DataFrame(
    {
        "customer_id": ["c1", "c1", "c1", "c2", "c3", "c3", "c4", "c5"],
        "person_id": ["p1", "p1", "p3", "p2", "p3", "p1", "p4", "p5"],
        "n_orders": [2, 3, 4, 6, 5, 1, 2, 1],
    }
)
# p1 buys nothing after the scoring date; p2 only after 100 days; p3 and p4 inside 90 days.
TRUTH_ORDERS = pd.DataFrame(
    {
        "person_id": ["p1", "p2", "p3", "p3", "p4", "p5"],
        "ordered_at": pd.to_datetime(
            [
                "2024-06-30 23:00",
                "2024-10-09 10:00",
                "2024-07-01 00:00",
                "2024-08-01 00:00",
                "2024-09-28 00:00",
                "2024-07-02 00:00",
            ]
        ),
        "total": [99.0, 10.0, 100.0, 200.0, 400.0, 9.0],
    }
)


def test_majority_person_sums_rows_and_breaks_ties_by_smallest_person_id() -> None:
    assert majority_person(CUSTOMER_PERSON).set_index("customer_id")["person_id"].to_dict() == {
        "c1": "p1",
        "c2": "p2",
        "c3": "p3",
        "c4": "p4",
        "c5": "p5",
    }
    tie = pd.DataFrame({"customer_id": ["c", "c"], "person_id": [9, 4], "n_orders": [3, 3]})
    assert majority_person(tie)["person_id"].tolist() == [4]


def test_churn_is_judged_over_the_models_own_horizon() -> None:
    scores = pd.DataFrame(
        {"customer_id": ["c1", "c2", "c3", "c4"], "churn_probability": [0.8, 0.9, 0.2, 0.1]}
    )
    # 90 days: c1 and c2 churned (p2 buys on day 100), c3 and c4 did not: a perfect ranking
    at_90 = model_quality(
        scores, "churn_probability", CUSTOMER_PERSON, TRUTH_ORDERS, SCORING_DATE, 90, TRUTH_ENDS
    )
    assert (at_90.metric, at_90.n_scored, at_90.n_matched, at_90.value) == ("churn_auc", 4, 4, 1.0)
    # 120 days: p2's order is inside the horizon, so c2 (ranked riskiest) did not churn: one pair of three
    # is out of order
    at_120 = model_quality(
        scores, "churn_probability", CUSTOMER_PERSON, TRUTH_ORDERS, SCORING_DATE, 120, TRUTH_ENDS
    )
    assert at_120.value == pytest.approx(2 / 3)


def test_value_is_judged_by_revenue_in_the_horizon() -> None:
    scores = pd.DataFrame(
        {"customer_id": ["c1", "c2", "c3", "c4"], "predicted_revenue": [1.0, 2.0, 30.0, 40.0]}
    )
    quality = model_quality(
        scores, "predicted_revenue", CUSTOMER_PERSON, TRUTH_ORDERS, SCORING_DATE, 91, TRUTH_ENDS
    )
    assert quality.metric == "clv_normalized_gini"
    assert quality.value == pytest.approx(1.0)


def test_a_horizon_beyond_the_truth_is_not_measured() -> None:
    scores = pd.DataFrame({"customer_id": ["c1"], "churn_probability": [0.5]})
    quality = model_quality(
        scores, "churn_probability", CUSTOMER_PERSON, TRUTH_ORDERS, SCORING_DATE, 400, TRUTH_ENDS
    )
    assert quality.value is None
    assert "the truth ends on 2025-07-01" in quality.note
