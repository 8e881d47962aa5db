"""Training and scoring: quality on customers the model never saw, determinism, and the score contracts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ml.evaluate import normalized_gini, roc_auc
from ml.features import FEATURES
from ml.labels import churn_labels, clv_labels
from ml.score import RiskBands, score_churn, score_clv
from ml.synthetic import SyntheticCustomers, make_customer_frames
from ml.train import (
    SEASON_FEATURE,
    ChurnTrainConfig,
    ClvTrainConfig,
    TrainedModel,
    sees_every_season,
    train_churn_model,
    train_clv_model,
)
from tests.ml.score_contracts import (
    CHURN_SCORE_COLUMNS,
    CLV_SCORE_COLUMNS,
    assert_equal_sized_deciles_highest_first,
)

Holdout = tuple[TrainedModel, pd.DataFrame, pd.DataFrame]


def test_churn_model_ranks_unseen_customers(churn_holdout: Holdout) -> None:
    model, holdout_features, holdout_labels = churn_holdout
    auc = roc_auc(holdout_labels["churned"], model.predict(holdout_features))
    print(f"churn holdout AUC {auc:.4f}, validation metrics {dict(model.metrics)}")
    assert auc > 0.7
    assert model.metrics["validation_auc"] > 0.7
    assert model.metrics["validation_calibration_max_gap"] < 0.15
    assert model.validation_snapshot_date == max(model.training_snapshot_dates)
    assert model.features == (*FEATURES, SEASON_FEATURE)  # no BTYD columns given; two years of snapshots
    assert model.model_version.startswith("churn-lgbm-")


def test_clv_model_ranks_unseen_customers(clv_holdout: Holdout) -> None:
    model, holdout_features, holdout_labels = clv_holdout
    predicted = model.predict(holdout_features)
    gini = normalized_gini(holdout_labels["future_net_revenue"], predicted)
    print(f"CLV holdout normalized Gini {gini:.4f}, validation metrics {dict(model.metrics)}")
    assert (predicted >= 0).all()
    assert gini > 0.3
    assert model.metrics["validation_normalized_gini"] > 0.3


def test_training_is_deterministic_and_versioned_by_data(fast_churn_config: ChurnTrainConfig) -> None:
    small = make_customer_frames(
        n_customers=400, seed=3, snapshot_dates=["2023-01-01", "2023-02-01", "2023-03-01"]
    )
    labels = churn_labels(small.features, small.orders, pd.Timestamp("2023-06-01"))
    config = dataclasses.replace(fast_churn_config, min_child_samples=20)
    first = train_churn_model(small.features, labels, config)
    # Row order must not matter either.
    second = train_churn_model(small.features.iloc[::-1], labels.sample(frac=1.0, random_state=1), config)
    assert first.model_version == second.model_version
    assert np.array_equal(first.predict(small.features), second.predict(small.features))

    changed_data = train_churn_model(small.features.iloc[1:], labels.iloc[1:], config)
    assert changed_data.model_version != first.model_version
    changed_params = train_churn_model(small.features, labels, dataclasses.replace(config, num_leaves=15))
    assert changed_params.model_version != first.model_version


def test_training_rejects_mismatched_inputs(
    synthetic: SyntheticCustomers, fast_churn_config: ChurnTrainConfig
) -> None:
    one_snapshot = synthetic.features.loc[synthetic.features["snapshot_date"] == pd.Timestamp("2023-01-01")]
    labels = churn_labels(one_snapshot, synthetic.orders, synthetic.scoring_date)
    with pytest.raises(ValueError, match="at least two labelled snapshot dates"):
        train_churn_model(one_snapshot, labels, fast_churn_config)
    with pytest.raises(ValueError, match="must cover the same"):
        train_churn_model(one_snapshot, labels.iloc[1:], fast_churn_config)


def test_churn_scores_contract(churn_holdout: Holdout, synthetic: SyntheticCustomers) -> None:
    model = churn_holdout[0]
    scores = score_churn(
        model, synthetic.features, synthetic.scoring_date, RiskBands(medium_from=0.3, high_from=0.8)
    )
    at_scoring = synthetic.features.loc[synthetic.features["snapshot_date"] == synthetic.scoring_date]
    assert list(scores.columns) == CHURN_SCORE_COLUMNS
    assert scores["horizon_days"].dtype == "int64"
    assert (scores["horizon_days"] == model.horizon_days).all()
    assert model.horizon_days == 90
    assert sorted(scores["customer_id"]) == sorted(at_scoring["customer_id"])
    assert scores["customer_id"].is_unique
    assert scores["churn_probability"].between(0.0, 1.0).all()
    assert (scores["scoring_date"] == synthetic.scoring_date.date()).all()
    assert (scores["model_version"] == model.model_version).all()
    probability = scores["churn_probability"]
    expected_band = np.where(probability >= 0.8, "high", np.where(probability >= 0.3, "medium", "low"))
    assert (scores["risk_band"] == expected_band).all()
    assert set(scores["risk_band"]) == {"low", "medium", "high"}
    with pytest.raises(ValueError, match="no snapshot at scoring_date=2024-01-16"):
        score_churn(model, synthetic.features, pd.Timestamp("2024-01-16"))
    with pytest.raises(ValueError, match="needs a clv model"):
        score_clv(model, synthetic.features, synthetic.scoring_date)


def test_clv_scores_contract(clv_holdout: Holdout, synthetic: SyntheticCustomers) -> None:
    scores = score_clv(clv_holdout[0], synthetic.features, synthetic.scoring_date)
    assert list(scores.columns) == CLV_SCORE_COLUMNS
    assert scores["horizon_days"].dtype == "int64"
    assert (scores["horizon_days"] == 365).all()
    assert scores["customer_id"].is_unique
    assert len(scores) == (synthetic.features["snapshot_date"] == synthetic.scoring_date).sum()
    assert (scores["predicted_revenue"] >= 0).all()
    assert_equal_sized_deciles_highest_first(scores)


def test_undefined_validation_metrics_are_none_with_a_note_and_training_goes_on(
    fast_churn_config: ChurnTrainConfig, fast_clv_config: ClvTrainConfig
) -> None:
    # Guards against a crash when the validation snapshot holds a single class (AUC undefined) or no
    # revenue at all (Gini undefined): the model still trains and scores.
    small = make_customer_frames(
        n_customers=400, seed=3, snapshot_dates=["2023-01-01", "2023-02-01", "2023-03-01"]
    )
    is_validation = (small.features["snapshot_date"] == pd.Timestamp("2023-03-01")).to_numpy()
    churn = churn_labels(small.features, small.orders, pd.Timestamp("2023-06-01"))
    churn.loc[is_validation, "churned"] = 0
    churn_model = train_churn_model(
        small.features, churn, dataclasses.replace(fast_churn_config, min_child_samples=20)
    )
    assert churn_model.metrics["validation_auc"] is None
    assert churn_model.metrics["validation_top_decile_lift"] is None
    assert churn_model.metrics["validation_churn_rate"] == 0.0
    assert churn_model.metric_notes == (
        f"validation_auc undefined: all {is_validation.sum()} validation customers retained",
        "validation_top_decile_lift undefined: no validation customer churned",
    )

    clv = clv_labels(small.features, small.orders, pd.Timestamp("2023-06-01"), horizon_days=90)
    clv.loc[is_validation, "future_net_revenue"] = 0.0
    clv_model = train_clv_model(
        small.features, clv, dataclasses.replace(fast_clv_config, min_child_samples=20, horizon_days=90)
    )
    assert clv_model.metrics["validation_normalized_gini"] is None
    assert clv_model.metrics["validation_top_decile_lift"] is None
    assert clv_model.metrics["validation_mean_actual"] == 0.0
    assert clv_model.metric_notes[0].startswith("validation_normalized_gini undefined: all ")
    for model in (churn_model, clv_model):
        assert model.best_iteration >= 1
        assert np.isfinite(model.predict(small.features)).all()


def test_the_month_is_a_feature_only_once_labelled_snapshots_cover_a_year(
    churn_holdout: Holdout, fast_churn_config: ChurnTrainConfig
) -> None:
    model, holdout, _ = churn_holdout
    assert sees_every_season(model.training_snapshot_dates)
    assert SEASON_FEATURE in model.features
    inputs = model.model_input(holdout)
    assert (inputs[SEASON_FEATURE] == pd.to_datetime(holdout["snapshot_date"]).dt.month.to_numpy()).all()
    # Nine labelled months: an unseen month would be scored like the nearest one seen, so no month.
    small = make_customer_frames(
        n_customers=400, seed=3, snapshot_dates=[f"2023-{m:02d}-01" for m in range(1, 10)]
    )
    labels = churn_labels(small.features, small.orders, pd.Timestamp("2024-01-01"))
    short = train_churn_model(
        small.features, labels, dataclasses.replace(fast_churn_config, min_child_samples=20)
    )
    assert not sees_every_season(short.training_snapshot_dates)
    assert SEASON_FEATURE not in short.features
