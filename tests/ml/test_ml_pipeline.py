"""The entry points orchestration calls: which snapshots train, who gets scored, and that the future is never read."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ml.pipeline import (
    ChurnConfig,
    ClvConfig,
    fit_and_score_churn,
    fit_and_score_clv,
    training_customer_sample,
    training_rows,
)
from ml.synthetic import SyntheticCustomers, make_customer_frames
from ml.train import ChurnTrainConfig, ClvTrainConfig
from tests.ml.score_contracts import CHURN_RESULT_COLUMNS


@pytest.fixture(scope="module")
def small() -> SyntheticCustomers:
    return make_customer_frames(n_customers=600, seed=23)


def test_fit_and_score_churn_scores_every_customer_at_the_scoring_date(
    small: SyntheticCustomers, fast_churn_config: ChurnTrainConfig
) -> None:
    result = fit_and_score_churn(
        small.features, small.orders, small.scoring_date, ChurnConfig(train=fast_churn_config)
    )
    at_scoring = small.features.loc[small.features["snapshot_date"] == small.scoring_date, "customer_id"]
    scores = result.scores
    assert result.model_kind == "lightgbm"
    assert result.fallback_reason is None
    assert result.metrics["model_kind"] == "lightgbm"
    assert result.metrics["fallback_reason"] == ""
    assert list(scores.columns) == CHURN_RESULT_COLUMNS
    assert sorted(scores["customer_id"]) == sorted(at_scoring)
    assert (scores["horizon_days"] == 90).all()
    assert result.metrics["horizon_days"] == 90
    assert scores["churn_probability"].between(0, 1).all()
    # Everyone is explained who has a feature raising their risk; the contribution sits beside the words.
    explained = scores["reason_1"].notna()
    assert explained.mean() > 0.9
    assert explained.sum() == result.metrics["n_explained"]
    assert (scores.loc[explained, "reason_1_contribution"] > 0).all()

    horizon = pd.Timedelta(days=fast_churn_config.horizon_days)
    assert all(date + horizon <= small.scoring_date for date in result.model.training_snapshot_dates)
    # Every fully observed snapshot is used: the next one would not be.
    later = sorted(set(small.features["snapshot_date"]) - set(result.model.training_snapshot_dates))
    assert later[0] + horizon > small.scoring_date
    assert result.metrics["n_scored"] == len(at_scoring)
    assert result.metrics["validation_snapshot"] == "2023-10-01"
    assert result.metrics["n_low_risk"] + result.metrics["n_medium_risk"] + result.metrics[
        "n_high_risk"
    ] == len(at_scoring)


def test_fit_and_score_clv_trains_on_a_full_year_of_outcomes(
    small: SyntheticCustomers, fast_clv_config: ClvTrainConfig
) -> None:
    result = fit_and_score_clv(
        small.features, small.orders, small.scoring_date, ClvConfig(train=fast_clv_config)
    )
    assert result.model_kind == "lightgbm"
    assert max(result.model.training_snapshot_dates) == pd.Timestamp("2023-01-01")
    assert result.scores["customer_id"].is_unique
    assert (result.scores["horizon_days"] == 365).all()
    assert (result.scores["predicted_revenue"] >= 0).all()
    assert set(result.scores["clv_decile"]) == set(range(1, 11))
    assert result.metrics["model_version"] == result.model.model_version
    assert result.metrics["n_training_rows"] == result.model.n_training_rows


def test_orders_on_or_after_the_scoring_date_are_never_read(
    small: SyntheticCustomers, fast_churn_config: ChurnTrainConfig
) -> None:
    # A backfill for a past date must see what a run on that date saw, even though the warehouse now
    # holds later orders.
    config = ChurnConfig(train=fast_churn_config)
    scoring_date = pd.Timestamp("2023-09-01")
    features = small.features.loc[small.features["snapshot_date"] <= scoring_date]
    before = small.orders.loc[small.orders["ordered_at"] < scoring_date]
    later = small.orders.loc[small.orders["ordered_at"] >= scoring_date]
    cutoff = fit_and_score_churn(features, before, scoring_date, config)
    everything = fit_and_score_churn(features, pd.concat([before, later]), scoring_date, config)
    assert len(later) > 0
    assert cutoff.model.model_version == everything.model.model_version
    pd.testing.assert_frame_equal(cutoff.scores, everything.scores)


def test_training_sample_keeps_whole_customers_and_is_stable(small: SyntheticCustomers) -> None:
    ids = small.features["customer_id"]
    mask = training_customer_sample(ids, 0.3)
    assert np.array_equal(mask, training_customer_sample(ids.iloc[::-1], 0.3)[::-1])
    kept_share_per_customer = pd.Series(mask).groupby(ids.to_numpy()).mean()
    assert set(kept_share_per_customer.unique()) <= {0.0, 1.0}
    assert 0.2 < kept_share_per_customer.mean() < 0.4

    capped = training_rows(small.features, small.scoring_date, 90, max_rows=3000)
    assert 2000 < len(capped) < 4000
    assert capped["snapshot_date"].max() + pd.Timedelta(days=90) <= small.scoring_date


def test_horizons_are_parameters_and_every_score_row_names_its_horizon(
    small: SyntheticCustomers, fast_churn_config: ChurnTrainConfig, fast_clv_config: ClvTrainConfig
) -> None:
    churn = fit_and_score_churn(
        small.features,
        small.orders,
        small.scoring_date,
        ChurnConfig(train=dataclasses.replace(fast_churn_config, horizon_days=60)),
    )
    clv = fit_and_score_clv(
        small.features,
        small.orders,
        small.scoring_date,
        ClvConfig(train=dataclasses.replace(fast_clv_config, horizon_days=180)),
    )
    for result, horizon_days in ((churn, 60), (clv, 180)):
        assert result.model_kind == "lightgbm"
        assert result.model.horizon_days == horizon_days
        assert result.metrics["horizon_days"] == horizon_days
        assert (result.scores["horizon_days"] == horizon_days).all()
        # The latest training snapshot is the latest one whose window ends by the scoring date.
        latest = max(result.model.training_snapshot_dates)
        assert latest + pd.Timedelta(days=horizon_days) <= small.scoring_date
        later = small.features.loc[small.features["snapshot_date"] > latest, "snapshot_date"].min()
        assert later + pd.Timedelta(days=horizon_days) > small.scoring_date
    assert max(clv.model.training_snapshot_dates) == pd.Timestamp("2023-07-01")


def test_empty_scoring_snapshot_gives_empty_scores_and_says_why(
    small: SyntheticCustomers, fast_churn_config: ChurnTrainConfig, fast_clv_config: ClvTrainConfig
) -> None:
    # Guards against an asset failure (and everything downstream not publishing) when a run has nobody
    # to score; a later snapshot missing is reported, not raised.
    without = small.features.loc[small.features["snapshot_date"] != small.scoring_date]
    churn_config = ChurnConfig(train=dataclasses.replace(fast_churn_config, n_estimators=5))
    churn = fit_and_score_churn(without, small.orders, small.scoring_date, churn_config)
    clv = fit_and_score_clv(without, small.orders, small.scoring_date, ClvConfig(train=fast_clv_config))
    full_churn = fit_and_score_churn(small.features, small.orders, small.scoring_date, churn_config)
    full_clv = fit_and_score_clv(
        small.features, small.orders, small.scoring_date, ClvConfig(train=fast_clv_config)
    )
    for empty, full in ((churn, full_churn), (clv, full_clv)):
        assert empty.scores.empty
        assert empty.metrics["n_scored"] == 0
        assert (
            empty.fallback_reason
            == "the features have no customers at the scoring date 2024-01-15: nothing to score"
        )
        assert empty.metrics["fallback_reason"] == empty.fallback_reason
        assert empty.model_kind == "run_rate"
        pd.testing.assert_series_equal(empty.scores.dtypes, full.scores.dtypes)
