"""Pairwise precision and recall of resolved customers against the demo truth, on hand-made frames."""

from __future__ import annotations

import pandas as pd
import pytest

from sources.demo.identity_quality import identity_precision_recall


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
