"""Checks that measure the pipeline against the demo generator's truth (`sources.demo.evaluation`).

A real deployment has no truth: `definitions.py` adds these checks only when the configuration names a
truth folder (`paths.truth_dir`), and a check whose truth files are missing passes and says so. They
never block: they measure, and the numbers appear on every demo run in the UI.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd

from orchestration.defs.ml.assets import CHURN_CONFIG, CLV_CONFIG
from orchestration.lib.scoring import ScoringResource
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource
from sources.demo.evaluation import identity_precision_recall, model_quality
from sources.demo.truth import TruthFiles

# Merging two people is worse than missing a link (their histories and scores mix), so precision has the
# stricter floor.
MIN_PRECISION = 0.98
MIN_RECALL = 0.90
# What a model must reach against the truth before its check passes: far above chance on the demo.
MIN_CHURN_AUC = 0.65
MIN_CLV_NORMALIZED_GINI = 0.30
_NO_TRUTH = {"truth": "none: the truth files are missing"}


class TruthResource(dg.ConfigurableResource):
    """The demo generator's truth folder (`sources.demo.truth.TruthFiles`)."""

    path: str

    @property
    def files(self) -> TruthFiles:
        return TruthFiles(Path(self.path))

    def available(self) -> bool:
        files = self.files
        return all(p.is_file() for p in (files.identities, files.orders, files.summary))

    def identities(self) -> pd.DataFrame:
        """source, source_id -> person_id for every identifier the generator wrote."""
        return pd.read_parquet(self.files.identities)

    def orders(self) -> pd.DataFrame:
        """Every simulated purchase (person_id, ordered_at, total), the hidden future included."""
        return pd.read_parquet(self.files.orders)

    def horizon_end(self) -> date:
        """The last day the truth covers (exclusive)."""
        return date.fromisoformat(json.loads(self.files.summary.read_text())["truth_horizon_end"])


@dg.asset_check(
    asset=dg.AssetKey(["marts", "customer_identity_bridge"]),
    name="identity_resolution_against_demo_truth",
    description=f"Pairwise precision (>= {MIN_PRECISION}) and recall (>= {MIN_RECALL}) of the resolved "
    "customers against the demo generator's people.",
    pool=WAREHOUSE_POOL,
)
def identity_resolution_against_demo_truth(
    warehouse: WarehouseResource, truth: TruthResource
) -> dg.AssetCheckResult:
    if not truth.available():
        return dg.AssetCheckResult(passed=True, metadata=_NO_TRUTH)
    bridge = warehouse.read_frame("select source, source_id, customer_id from marts.customer_identity_bridge")
    quality = identity_precision_recall(bridge, truth.identities())
    return dg.AssetCheckResult(
        passed=quality.precision >= MIN_PRECISION and quality.recall >= MIN_RECALL,
        metadata={
            "precision": round(quality.precision, 4),
            "recall": round(quality.recall, 4),
            "f1": round(quality.f1, 4),
            "records_compared": quality.records_compared,
            "predicted_pairs": quality.predicted_pairs,
            "true_pairs": quality.true_pairs,
        },
    )


def _model_against_truth(
    table: str, score_column: str, horizon_days: int, minimum: float
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(table.split(".")),
        name="scores_against_demo_truth",
        description=f"{score_column} of the run's scoring date against what each customer's person really "
        f"did in the {horizon_days} days after it (passes at >= {minimum}).",
        pool=WAREHOUSE_POOL,
        blocking=False,
    )
    def scores_against_demo_truth(
        warehouse: WarehouseResource, truth: TruthResource, scoring: ScoringResource
    ) -> dg.AssetCheckResult:
        if not truth.available():
            return dg.AssetCheckResult(passed=True, metadata=_NO_TRUTH)
        scoring_date = scoring.resolve(warehouse)
        scores = warehouse.read_frame(
            f"select customer_id, {score_column} from {table} where scoring_date = ?", [scoring_date]
        )
        order_customers = warehouse.read_frame("select order_id, customer_id from marts.fct_orders")
        order_persons = truth.identities().query("source == 'orders'")
        customer_person = (
            order_customers.merge(
                order_persons.rename(columns={"source_id": "order_id"}).astype({"order_id": str}),
                on="order_id",
            )
            .groupby(["customer_id", "person_id"], as_index=False)
            .agg(n_orders=("order_id", "size"))
        )
        quality = model_quality(
            scores,
            score_column,
            customer_person,
            truth.orders(),
            scoring_date,
            horizon_days,
            truth.horizon_end(),
        )
        value = None if quality.value is None else round(quality.value, 4)
        return dg.AssetCheckResult(
            passed=value is None or value >= minimum,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                f"truth_{quality.metric}": value if value is not None else "not measurable",
                "scoring_date": str(scoring_date),
                "horizon_days": horizon_days,
                "n_scored": quality.n_scored,
                "n_matched": quality.n_matched,
                **({"note": quality.note} if quality.note else {}),
            },
        )

    return scores_against_demo_truth


truth_checks = [
    identity_resolution_against_demo_truth,
    _model_against_truth(
        "ml.customer_churn_scores", "churn_probability", CHURN_CONFIG.train.horizon_days, MIN_CHURN_AUC
    ),
    _model_against_truth(
        "ml.customer_clv", "predicted_revenue", CLV_CONFIG.train.horizon_days, MIN_CLV_NORMALIZED_GINI
    ),
]
