"""How well identity resolution recovers the demo's people: pairwise precision and recall of the resolved
customers (the warehouse's `customer_identity_bridge`) against the generator's truth (`identities.parquet`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

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
