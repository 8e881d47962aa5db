"""Shared synthetic data and trained models for the `ml` tests, built once per session to keep the suite fast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.labels import churn_labels, clv_labels, labelable_snapshot_dates
from ml.pipeline import training_customer_sample
from ml.synthetic import SyntheticCustomers, make_customer_frames
from ml.train import ChurnTrainConfig, ClvTrainConfig, TrainedModel, train_churn_model, train_clv_model

# Fewer, bigger boosting steps than production: the same code paths in a fraction of the time.
FAST_CHURN = ChurnTrainConfig(learning_rate=0.2, n_estimators=300, early_stopping_rounds=20)
FAST_CLV = ClvTrainConfig(learning_rate=0.2, n_estimators=300, early_stopping_rounds=20)


# A model trained on 70% of the customers, with the feature rows and labels of the other 30% to test it on.
HoldoutModel = tuple[TrainedModel, pd.DataFrame, pd.DataFrame]


@pytest.fixture(scope="session")
def synthetic() -> SyntheticCustomers:
    return make_customer_frames(n_customers=2000, seed=11)


def _holdout_split(synthetic: SyntheticCustomers, horizon_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    features = synthetic.features
    dates = labelable_snapshot_dates(features["snapshot_date"], synthetic.scoring_date, horizon_days)
    labelled = features.loc[features["snapshot_date"].isin(dates)]
    in_training = training_customer_sample(labelled["customer_id"], 0.7)
    return labelled.loc[in_training], labelled.loc[~in_training]


@pytest.fixture(scope="session")
def churn_holdout(synthetic: SyntheticCustomers) -> HoldoutModel:
    training, holdout = _holdout_split(synthetic, FAST_CHURN.horizon_days)
    model = train_churn_model(
        training, churn_labels(training, synthetic.orders, synthetic.scoring_date), FAST_CHURN
    )
    return model, holdout, churn_labels(holdout, synthetic.orders, synthetic.scoring_date)


@pytest.fixture(scope="session")
def clv_holdout(synthetic: SyntheticCustomers) -> HoldoutModel:
    training, holdout = _holdout_split(synthetic, FAST_CLV.horizon_days)
    model = train_clv_model(
        training,
        clv_labels(training, synthetic.orders, synthetic.scoring_date, FAST_CLV.horizon_days),
        FAST_CLV,
    )
    return (
        model,
        holdout,
        clv_labels(holdout, synthetic.orders, synthetic.scoring_date, FAST_CLV.horizon_days),
    )


@pytest.fixture(scope="session")
def fast_churn_config() -> ChurnTrainConfig:
    return FAST_CHURN


@pytest.fixture(scope="session")
def fast_clv_config() -> ClvTrainConfig:
    return FAST_CLV


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(5)
