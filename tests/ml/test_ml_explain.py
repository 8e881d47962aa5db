"""Reason codes: path attribution that adds up to the raw score, agrees with exact SHAP on the top reasons,
covers every customer by default, and ranks churn and value reasons the way each task needs."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from ml.explain import (
    BIAS_COLUMN,
    ReasonCodePlan,
    contributions,
    explain_churn_scores,
    explain_clv_scores,
    feature_contributions,
    no_reasons,
    path_attribution,
    reason_codes,
    shap_contributions,
)
from ml.score import score_churn, score_clv, scoring_snapshot
from ml.synthetic import SyntheticCustomers
from ml.train import TrainedModel
from tests.ml.score_contracts import REASON_COLUMNS

Holdout = tuple[TrainedModel, pd.DataFrame, pd.DataFrame]
COLUMNS = ["customer_id", *REASON_COLUMNS]


@pytest.fixture(scope="module")
def at_scoring(synthetic: SyntheticCustomers) -> pd.DataFrame:
    return scoring_snapshot(synthetic.features, synthetic.scoring_date)


@pytest.mark.parametrize("holdout", ["churn_holdout", "clv_holdout"])
def test_contributions_plus_bias_sum_to_the_raw_score(
    holdout: str, at_scoring: pd.DataFrame, request: pytest.FixtureRequest
) -> None:
    model = request.getfixturevalue(holdout)[0]
    attributed = feature_contributions(model, at_scoring)
    assert list(attributed.columns) == [*model.features, BIAS_COLUMN]
    raw = model.booster.predict(model.model_input(at_scoring), raw_score=True)
    np.testing.assert_allclose(attributed.sum(axis=1).to_numpy(), raw, rtol=0, atol=1e-6)


def test_single_leaf_trees_categorical_splits_and_missing_values(rng: np.random.Generator) -> None:
    # Guards the paths LightGBM dumps differently: a tree without any split is a bare leaf (no
    # leaf_index), a categorical split routes by a set of levels, and NaN follows the default branch.
    size = 3000
    inputs = pd.DataFrame(
        {
            "amount": np.where(rng.uniform(size=size) < 0.2, np.nan, rng.normal(size=size)),
            "level": pd.Categorical(rng.choice(["a", "b", "c", "d"], size), categories=["a", "b", "c", "d"]),
        }
    )
    target = np.nan_to_num(inputs["amount"].to_numpy(), nan=2.0) + inputs["level"].isin(["b", "d"]) * 1.5
    params = {"objective": "regression", "num_leaves": 8, "min_data_in_leaf": 20, "verbosity": -1}
    booster = lgb.train(params, lgb.Dataset(inputs, target), num_boost_round=20)
    assert any(tree["num_cat"] > 0 for tree in booster.dump_model()["tree_info"])
    # Nothing to learn from a constant target: LightGBM keeps one tree that is a single leaf.
    constant = lgb.train(params, lgb.Dataset(inputs, np.full(size, 3.0)), num_boost_round=5)
    assert "leaf_value" in constant.dump_model()["tree_info"][0]["tree_structure"]

    for model in (booster, constant):
        paths = path_attribution(model)
        attributed = contributions(model, inputs, num_threads=2, paths=paths)
        np.testing.assert_allclose(
            attributed.sum(axis=1) + paths.bias, model.predict(inputs), rtol=0, atol=1e-6
        )
    assert not attributed.any()
    assert paths.bias == pytest.approx(3.0)
    missing = inputs["amount"].isna().to_numpy()
    assert np.abs(contributions(booster, inputs)[missing, 0]).min() > 0  # missing amounts take a branch too


def test_path_attribution_names_the_same_reasons_as_exact_shap(
    churn_holdout: Holdout, clv_holdout: Holdout, at_scoring: pd.DataFrame
) -> None:
    # Saabas credits a split by where it sits in the tree, so it does not match SHAP row for row; the
    # bounds are the agreement measured on these models (module docstring of ml.explain), with a margin.
    churn = _agreement(churn_holdout[0], at_scoring, positive_only=True)
    clv = _agreement(clv_holdout[0], at_scoring, positive_only=False)
    assert churn["top_1"] >= 0.6, churn
    assert churn["top_1_in_top_3"] >= 0.9, churn
    assert churn["top_3_overlap"] >= 0.7, churn
    assert clv["top_1"] >= 0.5, clv
    assert clv["top_3_overlap"] >= 0.5, clv


def _agreement(model: TrainedModel, frame: pd.DataFrame, positive_only: bool) -> dict[str, float]:
    """Share of rows whose top feature is SHAP's, whose top feature is in SHAP's top 3, and the mean share
    of the top-3 sets in common; ranking by positive contribution (churn) or absolute (CLV)."""
    features = list(model.features)
    path = feature_contributions(model, frame)[features].to_numpy()
    shap = shap_contributions(model, frame)[features].to_numpy()

    def ranking(values: np.ndarray) -> np.ndarray:
        key = np.where(values > 0, values, -np.inf) if positive_only else np.abs(values)
        return np.argsort(-key, axis=1, kind="stable")[:, :3]

    path_top, shap_top = ranking(path), ranking(shap)
    overlap = [len(set(a) & set(b)) / 3 for a, b in zip(path_top, shap_top, strict=True)]
    return {
        "top_1": float(np.mean(path_top[:, 0] == shap_top[:, 0])),
        "top_1_in_top_3": float(np.mean((shap_top == path_top[:, [0]]).any(axis=1))),
        "top_3_overlap": float(np.mean(overlap)),
    }


def test_churn_reasons_are_the_largest_risk_raising_features_in_words(
    churn_holdout: Holdout, at_scoring: pd.DataFrame
) -> None:
    model = churn_holdout[0]
    frame = at_scoring.iloc[:400]
    reasons = reason_codes(model, frame, ReasonCodePlan(currency="EUR"))
    attributed = feature_contributions(model, frame)[list(model.features)].to_numpy()
    assert list(reasons.columns) == COLUMNS
    assert reasons["customer_id"].tolist() == frame["customer_id"].tolist()
    assert reasons["reason_1"].notna().mean() > 0.9

    amounts = reasons[COLUMNS[4:]].to_numpy()
    expected = -np.sort(-np.where(attributed > 0, attributed, 0.0), axis=1)[:, :3]
    np.testing.assert_allclose(np.nan_to_num(amounts), expected, atol=1e-12)
    texts = reasons[COLUMNS[1:4]]
    assert (texts.isna().to_numpy() == np.isnan(amounts)).all()
    assert not texts.stack().str.contains(r"\w+_\w+ =").any()  # no generic fallback for a model feature


def test_value_reasons_move_revenue_most_either_way_and_say_which(
    clv_holdout: Holdout, at_scoring: pd.DataFrame
) -> None:
    model = clv_holdout[0]
    frame = at_scoring.iloc[:400]
    reasons = reason_codes(model, frame)
    attributed = feature_contributions(model, frame)[list(model.features)].to_numpy()
    amounts = reasons[COLUMNS[4:]].to_numpy()
    expected = -np.sort(-np.abs(attributed), axis=1)[:, :3]
    np.testing.assert_allclose(np.abs(amounts), expected, atol=1e-12)
    assert (amounts < 0).any() and (amounts > 0).any()
    for rank in (1, 2, 3):
        raises = reasons[f"reason_{rank}"].str.endswith("(raises expected revenue)").to_numpy()
        assert (raises == (reasons[f"reason_{rank}_contribution"] > 0).to_numpy()).all()


def test_default_plan_explains_every_customer_for_both_tasks(
    churn_holdout: Holdout, clv_holdout: Holdout, synthetic: SyntheticCustomers, at_scoring: pd.DataFrame
) -> None:
    churn, clv = churn_holdout[0], clv_holdout[0]
    churn_scores = score_churn(churn, at_scoring, synthetic.scoring_date)
    clv_scores = score_clv(clv, at_scoring, synthetic.scoring_date)
    for explained, scores in (
        (explain_churn_scores(churn, at_scoring, churn_scores), churn_scores),
        (explain_clv_scores(clv, at_scoring, clv_scores), clv_scores),
    ):
        assert list(explained.columns) == COLUMNS
        assert explained["customer_id"].tolist() == scores["customer_id"].tolist()
        assert explained["reason_1"].notna().mean() > 0.95
    # Reversed feature rows: reasons are matched by customer_id, not by position.
    reversed_rows = explain_clv_scores(clv, at_scoring.iloc[::-1], clv_scores)
    pd.testing.assert_frame_equal(reversed_rows, explain_clv_scores(clv, at_scoring, clv_scores))


def test_plan_can_still_limit_to_bands_and_a_cap_riskiest_first(
    churn_holdout: Holdout, synthetic: SyntheticCustomers, at_scoring: pd.DataFrame
) -> None:
    model = churn_holdout[0]
    scores = score_churn(model, at_scoring, synthetic.scoring_date)
    explained = explain_churn_scores(
        model, at_scoring, scores, ReasonCodePlan(bands=("medium",), max_customers=40)
    )

    assert explained["customer_id"].tolist() == scores["customer_id"].tolist()
    has_reason = explained["reason_1"].notna().to_numpy()
    medium = scores.loc[scores["risk_band"] == "medium", "churn_probability"]
    assert has_reason.sum() == min(40, len(medium))
    assert (scores.loc[has_reason, "risk_band"] == "medium").all()
    assert scores.loc[has_reason, "churn_probability"].min() >= medium.nlargest(40).min()


def test_nobody_selected_and_no_reasons_keep_every_customer_with_null_columns(
    churn_holdout: Holdout, at_scoring: pd.DataFrame
) -> None:
    model = churn_holdout[0]
    frame = at_scoring.iloc[:50]
    scores = score_churn(model, frame, frame["snapshot_date"].iloc[0])
    explained = explain_churn_scores(model, frame, scores, ReasonCodePlan(max_customers=0))
    empty = no_reasons(scores["customer_id"])
    for result in (explained, empty):
        assert list(result.columns) == COLUMNS
        assert len(result) == len(scores)
        assert result[COLUMNS[1:]].isna().all().all()
    assert (empty[COLUMNS[4:]].dtypes == "float64").all()
    assert list(no_reasons(scores["customer_id"], ReasonCodePlan(top_k=1)).columns) == [
        "customer_id",
        "reason_1",
        "reason_1_contribution",
    ]
