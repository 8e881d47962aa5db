"""Reason codes for churn scores: the features that push each customer's risk up, from exact TreeSHAP.

LightGBM's `predict(pred_contrib=True)` is far slower than `predict`: ~45x for the default model (about 500
trees of depth <= 6: 2.8 ms against 62 us per row on one thread) and 100x or more for unbounded trees; see
benchmarks/bench_reason_codes.py. So reasons are computed for the customers someone will act on, not for
everyone: by default the high and medium risk bands, riskiest first, capped at `max_customers`. Everyone
else keeps a score with empty reasons. The cap bounds the run time whatever the size of the customer base.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.features import as_ids
from ml.train import TrainedModel

BIAS_COLUMN = "bias"


@dataclass(frozen=True)
class ReasonCodePlan:
    """Who gets reason codes: customers whose risk_band is in `bands`, highest churn_probability first,
    at most `max_customers` (about 30 s per 10,000 customers for the default model on one thread);
    `top_k` reasons each."""

    bands: tuple[str, ...] = ("high", "medium")
    max_customers: int = 10_000
    top_k: int = 3

    def reason_columns(self) -> list[str]:
        """Output column names: reason_1 ... reason_<top_k>."""
        return [f"reason_{rank}" for rank in range(1, self.top_k + 1)]


def feature_contributions(model: TrainedModel, frame: pd.DataFrame) -> pd.DataFrame:
    """Exact TreeSHAP contribution of every model feature to each row's raw score, plus a `bias` column.

    Units are the booster's raw scale (log-odds for churn, log revenue for CLV); each row sums to the raw
    score `model.booster.predict(..., raw_score=True)`. Same index as `frame`.
    """
    contributions = model.booster.predict(
        model.model_input(frame), pred_contrib=True, num_threads=model.config.num_threads
    )
    return pd.DataFrame(contributions, columns=[*model.features, BIAS_COLUMN], index=frame.index)


def reason_codes(model: TrainedModel, frame: pd.DataFrame, top_k: int = 3) -> pd.DataFrame:
    """customer_id and reason_1..reason_<top_k> for every row of `frame`, same order.

    A reason reads 'recency_days=142 (+0.31)': the feature, its value for the customer ('missing' for
    null) and its contribution in log-odds. Only features that raise the risk are reasons, largest first;
    a customer with fewer than `top_k` of them gets nulls in the remaining columns.
    """
    contributions = feature_contributions(model, frame)[list(model.features)].to_numpy()
    values = model.model_input(frame)
    top = np.argsort(-contributions, axis=1, kind="stable")[:, :top_k]
    reasons = pd.DataFrame({"customer_id": as_ids(frame["customer_id"]).reset_index(drop=True)})
    rows = np.arange(len(frame))
    for rank in range(top.shape[1]):
        feature_index = top[:, rank]
        contribution = contributions[rows, feature_index]
        column = pd.Series(None, index=rows, dtype=object)
        for index, feature in enumerate(model.features):
            chosen = (feature_index == index) & (contribution > 0)
            if chosen.any():
                shown = _value_text(values[feature].iloc[chosen])
                column[chosen] = [
                    f"{feature}={text} ({amount:+.2f})"
                    for text, amount in zip(shown, contribution[chosen], strict=True)
                ]
        reasons[f"reason_{rank + 1}"] = pd.Series(column.to_numpy(), dtype="str")
    return reasons


def explain_churn_scores(
    model: TrainedModel,
    features_at_scoring: pd.DataFrame,
    scores: pd.DataFrame,
    plan: ReasonCodePlan | None = None,
) -> pd.DataFrame:
    """Reason codes for the customers the `plan` selects from churn `scores` (customer_id, churn_probability,
    risk_band); `features_at_scoring` holds their feature rows. Returns customer_id plus the plan's reason
    columns, one row per row of `scores` in the same order, null where a customer was not selected."""
    settings = plan or ReasonCodePlan()
    selected = (
        scores.loc[scores["risk_band"].isin(settings.bands)]
        .sort_values(["churn_probability", "customer_id"], ascending=[False, True], kind="stable")
        .head(settings.max_customers)
    )
    chosen = as_ids(features_at_scoring["customer_id"]).isin(as_ids(selected["customer_id"]))
    to_explain = features_at_scoring.loc[chosen.to_numpy()]
    explained = (
        reason_codes(model, to_explain, settings.top_k)
        if len(to_explain)
        else no_reasons(to_explain["customer_id"], settings)
    )
    return no_reasons(scores["customer_id"], settings)[["customer_id"]].merge(
        explained, on="customer_id", how="left", validate="one_to_one"
    )


def no_reasons(customer_ids: pd.Series, plan: ReasonCodePlan | None = None) -> pd.DataFrame:
    """customer_id plus the plan's reason columns, all null: what a customer without reasons gets (a
    customer outside the plan, or every customer when the run-rate fallback scored)."""
    settings = plan or ReasonCodePlan()
    ids = as_ids(customer_ids).reset_index(drop=True)
    return pd.DataFrame(
        {
            "customer_id": ids,
            **{
                column: pd.Series(np.nan, index=ids.index, dtype="str")
                for column in settings.reason_columns()
            },
        }
    )


def _value_text(values: pd.Series) -> list[str]:
    """A feature value as a reason shows it: whole numbers without decimals, others to two places."""
    texts = []
    for value in values.tolist():
        if value is None or (isinstance(value, float) and np.isnan(value)):
            texts.append("missing")
        elif isinstance(value, float):
            texts.append(str(int(value)) if value.is_integer() else f"{value:.2f}")
        else:
            texts.append(str(value))
    return texts
