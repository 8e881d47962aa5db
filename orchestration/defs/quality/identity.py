"""How well identity resolution finds the demo's real people, as a check on the identity bridge.

Only the demo has a truth to measure against; a deployment without one gets a passing check that says
so, and the pairwise precision and recall appear on every demo run in the UI.
"""

from __future__ import annotations

import dagster as dg

from orchestration.lib.truth import TruthResource
from orchestration.lib.warehouse import WAREHOUSE_POOL, WarehouseResource
from sources.demo.identity_quality import identity_precision_recall

# Merging two people is worse than missing a link (their histories and scores mix), so precision has the
# stricter floor.
MIN_PRECISION = 0.98
MIN_RECALL = 0.90


@dg.asset_check(
    asset=dg.AssetKey(["marts", "customer_identity_bridge"]),
    name="identity_resolution_against_demo_truth",
    description=f"Pairwise precision (>= {MIN_PRECISION}) and recall (>= {MIN_RECALL}) of the resolved "
    "customers against the demo generator's people; passes with a note where there is no truth.",
    pool=WAREHOUSE_POOL,
)
def identity_resolution_against_demo_truth(
    warehouse: WarehouseResource, truth: TruthResource
) -> dg.AssetCheckResult:
    truth_identities = truth.identities()
    if truth_identities is None:
        return dg.AssetCheckResult(passed=True, metadata={"truth": "none: not a demo deployment"})
    bridge = warehouse.read_frame("select source, source_id, customer_id from marts.customer_identity_bridge")
    quality = identity_precision_recall(bridge, truth_identities)
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
