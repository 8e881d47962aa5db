"""The pipeline measured against the demo's truth, in one place: identity resolution and both models.

Only the demo has a truth (what the simulated people really are and really did, `sources.demo.truth`);
production code never imports this module. `orchestration/defs/demo` runs it as asset checks when the
deployment's configuration names a truth folder.

- Identity: pairwise precision and recall of the resolved customers (`customer_identity_bridge`)
  against the generator's people (`identities.parquet`).
- Models: churn ROC AUC and CLV normalized Gini of the scores of one scoring date against what each
  customer's person really bought in the model's horizon after it (`orders.parquet`), for any scoring
  date and horizon the truth covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ml.evaluate import normalized_gini, roc_auc
from ml.features import as_ids

RECORD_COLUMNS = ["source", "source_id"]


@dataclass(frozen=True)
class IdentityQuality:
    """Pairwise scores over the records both frames know; a pair is two records of one person.

    precision = true pairs / pairs put in one customer; recall = true pairs / pairs of one real person.
    A score with no pairs to judge (denominator 0) is 1.0: nothing was wrongly merged or split.
    """

    records_compared: int
    bridge_records_without_truth: int
    truth_records_without_bridge: int
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def _pairs(group_sizes: pd.Series) -> int:
    sizes = group_sizes.astype("int64")
    return int((sizes * (sizes - 1) // 2).sum())


def _records(frame: pd.DataFrame, label_column: str) -> pd.DataFrame:
    # the warehouse trims and upper-cases source ids; the truth carries them as generated
    records = frame[[*RECORD_COLUMNS, label_column]].copy()
    records["source_id"] = records["source_id"].astype(str).str.strip().str.upper()
    return records.drop_duplicates(RECORD_COLUMNS)


def identity_precision_recall(bridge: pd.DataFrame, truth_identities: pd.DataFrame) -> IdentityQuality:
    """Pairwise precision and recall of `bridge` (source, source_id, customer_id) against
    `truth_identities` (source, source_id, person_id).

    Only records present in both frames are judged (matched on source and the normalised source_id):
    the bridge's guest e-mails and the truth's orders have no counterpart in the other frame.
    """
    predicted = _records(bridge, "customer_id")
    truth = _records(truth_identities, "person_id")
    both = predicted.merge(truth, on=RECORD_COLUMNS, how="inner")
    return IdentityQuality(
        records_compared=len(both),
        bridge_records_without_truth=len(predicted) - len(both),
        truth_records_without_bridge=int(truth["source"].isin(predicted["source"].unique()).sum())
        - len(both),
        predicted_pairs=_pairs(both.groupby("customer_id").size()),
        true_pairs=_pairs(both.groupby("person_id").size()),
        correct_pairs=_pairs(both.groupby(["customer_id", "person_id"]).size()),
    )


def majority_person(customer_person: pd.DataFrame) -> pd.DataFrame:
    """For each customer_id the person_id with the most orders (ties: the smallest person_id).

    `customer_person` has customer_id, person_id, n_orders; repeated (customer, person) rows are summed.
    Returns customer_id (str), person_id, one row per customer.
    """
    totals = (
        customer_person.assign(customer_id=as_ids(customer_person["customer_id"]))
        .groupby(["customer_id", "person_id"])["n_orders"]
        .sum()
        .reset_index()
    )
    ranked = totals.sort_values(
        ["customer_id", "n_orders", "person_id"], ascending=[True, False, True], kind="stable"
    )
    return ranked.drop_duplicates("customer_id")[["customer_id", "person_id"]].reset_index(drop=True)


def person_outcomes(truth_orders: pd.DataFrame, scoring_date: date, horizon_days: int) -> pd.DataFrame:
    """Per person, what they really bought in [scoring_date, scoring_date + horizon_days): person_id,
    purchases, revenue (currency units). Persons without a purchase there have no row."""
    start = pd.Timestamp(scoring_date)
    end = start + pd.Timedelta(days=horizon_days)
    at = pd.to_datetime(truth_orders["ordered_at"])
    inside = truth_orders.loc[((at >= start) & (at < end)).to_numpy()]
    outcomes = inside.groupby("person_id", as_index=False).agg(
        purchases=("total", "size"), revenue=("total", "sum")
    )
    return outcomes.assign(person_id=as_ids(outcomes["person_id"]))


@dataclass(frozen=True)
class ModelQuality:
    """Scores of one date against the truth: how many were scored and matched to a person, the metric
    (churn_auc or clv_normalized_gini; None when the truth cannot say), and why not when it cannot."""

    n_scored: int
    n_matched: int
    metric: str
    value: float | None
    note: str = ""


def model_quality(
    scores: pd.DataFrame,
    score_column: str,
    customer_person: pd.DataFrame,
    truth_orders: pd.DataFrame,
    scoring_date: date,
    horizon_days: int,
    truth_horizon_end: date,
) -> ModelQuality:
    """Churn AUC (`score_column` churn_probability: truth churned = no purchase in the horizon) or CLV
    normalized Gini (any other `score_column`: truth = revenue in the horizon) of `scores` (customer_id,
    score), each customer judged by its majority person (`majority_person`)."""
    is_churn = score_column == "churn_probability"
    metric = "churn_auc" if is_churn else "clv_normalized_gini"
    scored = scores[["customer_id", score_column]].assign(customer_id=as_ids(scores["customer_id"]))
    window_end = scoring_date + timedelta(days=horizon_days)
    if window_end > truth_horizon_end:
        note = f"the truth ends on {truth_horizon_end}, before the horizon's end {window_end}"
        return ModelQuality(len(scored), 0, metric, None, note)
    outcomes = person_outcomes(truth_orders, scoring_date, horizon_days)
    persons = majority_person(customer_person)
    matched = scored.merge(persons.assign(person_id=as_ids(persons["person_id"])), on="customer_id")
    matched = matched.merge(outcomes, on="person_id", how="left").fillna({"purchases": 0, "revenue": 0.0})
    actual = (matched["purchases"] == 0).astype("int8") if is_churn else matched["revenue"]
    try:
        value = (roc_auc if is_churn else normalized_gini)(actual, matched[score_column].to_numpy(np.float64))
    except ValueError as undefined:  # one class only, or no revenue at all
        return ModelQuality(len(scored), len(matched), metric, None, str(undefined))
    return ModelQuality(len(scored), len(matched), metric, value)
