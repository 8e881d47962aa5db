"""Reason codes: real feature names, contributions that add up to the raw score, and the selection plan."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from ml.explain import BIAS_COLUMN, ReasonCodePlan, explain_churn_scores, feature_contributions, reason_codes
from ml.features import FEATURES
from ml.score import score_churn, scoring_snapshot
from ml.synthetic import SyntheticCustomers
from ml.train import TrainedModel

Holdout = tuple[TrainedModel, pd.DataFrame, pd.DataFrame]
REASON = re.compile(r"^(?P<feature>\w+)=(?P<value>.+) \((?P<contribution>[+-]\d+\.\d{2})\)$")


@pytest.fixture(scope="module")
def at_scoring(synthetic: SyntheticCustomers) -> pd.DataFrame:
    return scoring_snapshot(synthetic.features, synthetic.scoring_date).iloc[:300]


def test_contributions_plus_bias_sum_to_the_raw_score(
    churn_holdout: Holdout, at_scoring: pd.DataFrame
) -> None:
    model = churn_holdout[0]
    contributions = feature_contributions(model, at_scoring)
    assert list(contributions.columns) == [*FEATURES, BIAS_COLUMN]
    raw = model.booster.predict(model.model_input(at_scoring), raw_score=True)
    np.testing.assert_allclose(contributions.sum(axis=1).to_numpy(), raw, rtol=1e-6, atol=1e-6)
    probability = 1 / (1 + np.exp(-contributions.sum(axis=1).to_numpy()))
    np.testing.assert_allclose(probability, model.predict(at_scoring), rtol=1e-6)


def test_reason_codes_name_the_largest_risk_raising_features(
    churn_holdout: Holdout, at_scoring: pd.DataFrame
) -> None:
    model = churn_holdout[0]
    reasons = reason_codes(model, at_scoring)
    contributions = feature_contributions(model, at_scoring)
    assert list(reasons.columns) == ["customer_id", "reason_1", "reason_2", "reason_3"]
    assert reasons["customer_id"].tolist() == at_scoring["customer_id"].tolist()
    assert reasons["reason_1"].notna().mean() > 0.9

    for row, (_, customer) in enumerate(reasons.iterrows()):
        raising = contributions.iloc[row][list(FEATURES)].sort_values(ascending=False, kind="stable")
        raising = raising[raising > 0]
        for rank in range(3):
            text = customer[f"reason_{rank + 1}"]
            if rank >= len(raising):
                assert text is None or pd.isna(text)
                continue
            match = REASON.match(text)
            assert match, text
            assert match["feature"] in FEATURES
            assert match["feature"] == raising.index[rank]
            assert float(match["contribution"]) == pytest.approx(raising.iloc[rank], abs=0.005)


def test_reason_values_are_readable(churn_holdout: Holdout, at_scoring: pd.DataFrame) -> None:
    reasons = reason_codes(churn_holdout[0], at_scoring)
    texts = pd.concat([reasons[f"reason_{rank}"] for rank in (1, 2, 3)]).dropna()
    recency = texts[texts.str.startswith("recency_days=")]
    assert len(recency) > 0
    # Whole-day features print as integers, nulls as 'missing'.
    assert recency.str.match(r"^recency_days=(\d+|missing) \(").all()


def test_plan_explains_only_the_selected_bands_riskiest_first(
    churn_holdout: Holdout, synthetic: SyntheticCustomers
) -> None:
    model = churn_holdout[0]
    at_scoring = scoring_snapshot(synthetic.features, synthetic.scoring_date)
    scores = score_churn(model, at_scoring, synthetic.scoring_date)
    plan = ReasonCodePlan(bands=("medium",), max_customers=40)
    explained = explain_churn_scores(model, at_scoring, scores, plan)

    assert explained["customer_id"].tolist() == scores["customer_id"].tolist()
    has_reason = explained["reason_1"].notna().to_numpy()
    medium = scores.loc[scores["risk_band"] == "medium", "churn_probability"]
    assert has_reason.sum() == min(40, len(medium))
    assert (scores.loc[has_reason, "risk_band"] == "medium").all()
    assert scores.loc[has_reason, "churn_probability"].min() >= medium.nlargest(40).min()


def test_plan_with_nobody_selected_keeps_every_customer(
    churn_holdout: Holdout, at_scoring: pd.DataFrame
) -> None:
    model = churn_holdout[0]
    scores = score_churn(model, at_scoring, at_scoring["snapshot_date"].iloc[0])
    explained = explain_churn_scores(model, at_scoring, scores, ReasonCodePlan(max_customers=0))
    assert len(explained) == len(scores)
    assert explained[["reason_1", "reason_2", "reason_3"]].isna().all().all()
