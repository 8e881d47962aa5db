"""The pure pieces of the model benchmark (`benchmarks/bench_models.py`): which side of each metric is
better, the table with its verdict row, and the mapping of warehouse scores to the reference's customers.
No pipeline runs here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.bench_models import (
    aligned_scores,
    best_reference,
    clientele_row,
    comparison_table,
    demo_orders,
    is_ahead,
    pipeline_environment,
    scores_by_source_id,
    without_last_day_newcomers,
)
from benchmarks.model_references import Outcome, ReferenceRow
from ml.evaluate import BENCHMARK_METRICS


def _row(name: str, *values: float | None) -> ReferenceRow:
    return ReferenceRow(name, dict(zip(BENCHMARK_METRICS, values, strict=True)))


REFERENCES = [
    _row("A", 0.78, 0.37, 0.65, -0.18, 0.33, 0.52),
    _row("B", 0.77, None, 0.69, 0.10, 0.23, 0.53),
]


def test_best_reference_takes_each_metrics_better_side():
    # total spend error: the one closest to 0 (+0.10), not the smallest (-0.18)
    assert best_reference(REFERENCES) == {
        "churn_auc": 0.78,
        "churn_log_loss": 0.37,
        "spend_normalized_gini": 0.69,
        "total_spend_error": 0.10,
        "spend_decile_mape": 0.23,
        "top_decile_spend_capture": 0.53,
    }


def test_best_reference_is_none_where_no_reference_has_the_metric():
    assert best_reference([_row("rank only", 0.7, None, 0.6, 0.1, 0.3, 0.5)])["churn_log_loss"] is None


@pytest.mark.parametrize(
    ("key", "value", "best", "ahead"),
    [
        ("churn_auc", 0.79, 0.78, True),
        ("churn_auc", 0.78, 0.78, False),  # a tie is not ahead
        ("churn_log_loss", 0.36, 0.37, True),
        ("churn_log_loss", 0.38, 0.37, False),
        ("spend_decile_mape", 0.2, 0.23, True),
        ("top_decile_spend_capture", 0.5, 0.53, False),
        ("total_spend_error", -0.05, 0.10, True),  # closer to 0 from the other side
        ("total_spend_error", -0.12, 0.10, False),
        ("churn_log_loss", None, 0.37, None),
        ("churn_log_loss", 0.3, None, None),
    ],
)
def test_is_ahead(key, value, best, ahead):
    assert is_ahead(key, value, best) is ahead


def test_comparison_table_lists_references_clientele_best_and_verdicts():
    clientele = _row("Clientele", 0.80, 0.38, 0.60, -0.05, 0.20, 0.55)
    lines = comparison_table(REFERENCES, clientele).splitlines()
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        "| A",
        "| B",
        "| Clientele",
        "| best reference",
        "| Clientele ahead of the best reference?",
    ]
    assert lines[-1].split(" | ")[1:] == ["**yes**", "no", "no", "**yes**", "**yes**", "**yes** |"]
    assert lines[-2] == "| best reference | 0.7800 | 0.3700 | 0.690 | +10.0% | 0.230 | 0.530 |"


SCORES = pd.DataFrame(
    {
        "customer_id": ["h1", "h2", "h3"],
        "churn_probability": [0.1, 0.9, 0.5],
        "predicted_revenue": [30.0, 0.0, 5.0],
    }
)


def _bridge(*pairs: tuple[str, str], source: str = "customer_accounts") -> pd.DataFrame:
    return pd.DataFrame(
        {"source": source, "source_id": [p[0] for p in pairs], "customer_id": [p[1] for p in pairs]}
    )


def test_scores_by_source_id_keys_scores_by_the_record_id():
    bridge = pd.concat(
        [
            _bridge(("00004", "h1"), ("00018", "h2"), ("00021", "h3")),
            _bridge(("x@y", "h1"), source="guest_email"),
        ]
    )
    keyed = scores_by_source_id(SCORES, bridge, "customer_accounts").sort_values("source_id")
    assert keyed["source_id"].tolist() == ["00004", "00018", "00021"]
    assert keyed["churn_probability"].tolist() == [0.1, 0.9, 0.5]
    assert "customer_id" not in keyed


@pytest.mark.parametrize(
    ("bridge", "problem"),
    [
        (_bridge(("00004", "h1"), ("00018", "h2")), "1 scored customers without a record"),
        (_bridge(("00004", "h1"), ("00018", "h2"), ("00021", "h3"), ("00099", "h9")), "records of unscored"),
        (_bridge(("00004", "h1"), ("00018", "h2"), ("00021", "h3"), ("00022", "h3")), "customers of several"),
    ],
)
def test_scores_by_source_id_fails_unless_one_to_one(bridge, problem):
    # two CDNOW customers merged into one (or one left unscored) would silently shift the metrics
    with pytest.raises(ValueError, match=problem):
        scores_by_source_id(SCORES, bridge, "customer_accounts")


def _outcome(*ids: str) -> Outcome:
    n = len(ids)
    return Outcome(np.array(ids, dtype=object), np.zeros(n, dtype="int64"), np.zeros(n))


def test_aligned_scores_follow_the_outcomes_order():
    aligned = aligned_scores(_outcome("h3", "h1", "h2"), SCORES, "customer_id")
    assert aligned["customer_id"].tolist() == ["h3", "h1", "h2"]
    assert aligned["predicted_revenue"].tolist() == [5.0, 30.0, 0.0]


@pytest.mark.parametrize("ids", [("h1", "h2"), ("h1", "h2", "h3", "h4"), ("h1", "h2", "h9")])
def test_aligned_scores_fail_unless_the_same_customers(ids):
    with pytest.raises(ValueError, match="not the reference's"):
        aligned_scores(_outcome(*ids), SCORES, "customer_id")


def test_clientele_row_measures_the_aligned_scores():
    # 20 customers, the even ones churned, each spending 1..20 (a decile must not sum to 0); perfect scores
    churned = np.arange(20) % 2 == 0
    spend = np.arange(1.0, 21.0)
    outcome = Outcome(np.arange(20).astype(str), churned.astype("int64"), spend)
    scores = pd.DataFrame({"churn_probability": np.where(churned, 0.9, 0.1), "predicted_revenue": spend})
    row = clientele_row(outcome, scores, "")
    assert row.model == "Clientele"
    assert row.metrics["churn_auc"] == 1.0
    assert row.metrics["total_spend_error"] == pytest.approx(0.0)


def test_demo_orders_history_before_the_scoring_date_then_the_persons_truth():
    scoring = pd.Timestamp("2026-01-01")
    history = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c1"],
            "ordered_at": pd.to_datetime(
                ["2025-03-01 00:00:00", "2025-12-31 23:00:00", "2026-01-02 00:00:00"]
            ),  # the last: not seen
            "amount": [10.0, 20.0, 99.0],
        }
    )
    truth = pd.DataFrame(
        {
            "person_id": ["P1", "P1", "P2", "P3"],
            "ordered_at": pd.to_datetime(["2025-12-31", "2026-01-05", "2026-04-02", "2026-01-10"]),
            "total": [1.0, 7.0, 8.0, 9.0],  # P1's first: before (history's); P2's: after the 91 days
        }
    )
    persons = pd.DataFrame({"customer_id": ["c1", "c2", "c3"], "person_id": ["P1", "P2", "P1"]})
    orders = demo_orders(history, truth, persons, scoring, 91).sort_values(["ordered_at", "customer_id"])
    assert list(zip(orders["customer_id"], orders["amount"], strict=True)) == [
        ("c1", 10.0),
        ("c2", 20.0),
        ("c1", 7.0),  # a person behind two customers counts for both, as in the truth checks
        ("c3", 7.0),
    ]


def test_without_last_day_newcomers_drops_customers_observed_for_no_day():
    # first seen on the last calibration day: T = 0, and the naive RFM reference's rate is 0/0 (NaN)
    orders = pd.DataFrame(
        {
            "customer_id": ["old", "old", "new", "new"],
            "ordered_at": pd.to_datetime(
                ["2025-12-30 10:00:00", "2025-12-31 10:00:00", "2025-12-31 09:00:00", "2026-01-05 00:00:00"]
            ),
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    kept = without_last_day_newcomers(orders, pd.Timestamp("2026-01-01"))
    assert kept["customer_id"].tolist() == ["old", "old"]


def test_pipeline_environment_runs_beside_its_data(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CLIENTELE_WAREHOUSE_PATH", "/elsewhere.duckdb")
    environment = pipeline_environment(Path("c.yml"), tmp_path, 91, "1997-10-01")
    assert environment["DAGSTER_HOME"] == str(tmp_path / "dagster")
    assert environment["CLIENTELE__CALENDAR__END_DATE"] == "1997-10-01"
    assert environment["CLIENTELE__MODELS__CLV__HORIZON_DAYS"] == "91"
    assert "CLIENTELE_WAREHOUSE_PATH" not in environment  # an inherited path would redirect the run
    assert "CLIENTELE__CALENDAR__END_DATE" not in pipeline_environment(Path("c.yml"), tmp_path, 91, None)
