"""Champion and challenger: a newly trained model scores only when it beats the champion on the holdout
they share; otherwise the champion's scores are the run's scores, and the saved champion is what scores."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml.baseline import run_rate_model
from ml.pipeline import (
    BTYD_BASELINE,
    CHAMPION,
    NEW_MODEL,
    ChurnConfig,
    ChurnResult,
    ClvConfig,
    DriftLimits,
    drift_profile,
    fit_and_score_churn,
    fit_and_score_clv,
    training_due,
    with_btyd_features,
)
from ml.registry import load_model, save_model
from ml.score import snapshot_rows
from ml.synthetic import SyntheticCustomers, make_customer_frames
from ml.train import SEASON_FEATURE, ChurnTrainConfig, ClvTrainConfig


@pytest.fixture(scope="module")
def history() -> SyntheticCustomers:
    return make_customer_frames(n_customers=1500, seed=5)


def test_a_worse_challenger_is_rejected_and_the_champion_scores(
    history: SyntheticCustomers, fast_churn_config: ChurnTrainConfig, tmp_path: Path
) -> None:
    champion_run = fit_and_score_churn(
        history.features, history.orders, history.scoring_date, ChurnConfig(train=fast_churn_config)
    )
    assert champion_run.decision is not None and champion_run.decision.promote
    stored = load_model(save_model(champion_run.model, tmp_path))
    # Two tiny boosting steps: hardly more than the BTYD baseline it starts from, so worse on log loss.
    weak = dataclasses.replace(
        fast_churn_config, n_estimators=2, learning_rate=0.001, early_stopping_rounds=1
    )
    run = fit_and_score_churn(
        history.features, history.orders, history.scoring_date, ChurnConfig(train=weak), champion=stored
    )
    assert run.decision is not None and not run.decision.promote
    assert run.decision.reason.startswith("rejected")
    assert run.challenger is not None and run.challenger.model_version != stored.model_version
    assert run.model.model_version == stored.model_version
    assert run.holdout is not None
    losses = {label: metrics["churn_log_loss"] for label, metrics in run.holdout.metrics.items()}
    assert set(losses) == {NEW_MODEL, BTYD_BASELINE, CHAMPION}
    assert losses[NEW_MODEL] > losses[CHAMPION]
    # The run's scores are the champion's, as it scored them when it was promoted.
    pd.testing.assert_frame_equal(
        run.scores[["customer_id", "churn_probability", "model_version"]],
        champion_run.scores[["customer_id", "churn_probability", "model_version"]],
    )
    assert run.metrics["promotion"] == run.decision.reason


def test_a_better_challenger_is_promoted_and_scores(
    history: SyntheticCustomers, fast_clv_config: ClvTrainConfig
) -> None:
    at_scoring = snapshot_rows(history.features, history.scoring_date)
    horizon = fast_clv_config.horizon_days
    weak_champion = run_rate_model("clv", horizon, at_scoring)
    run = fit_and_score_clv(
        history.features,
        history.orders,
        history.scoring_date,
        ClvConfig(train=fast_clv_config),
        champion=weak_champion,
    )
    assert run.decision is not None and run.decision.promote, run.decision
    assert run.challenger is not None and run.model is run.challenger
    assert run.holdout is not None
    gini = {label: metrics["spend_normalized_gini"] for label, metrics in run.holdout.metrics.items()}
    assert gini[NEW_MODEL] > gini[CHAMPION]
    assert (run.scores["model_version"] == run.challenger.model_version).all()


def test_a_champion_for_another_horizon_sits_out(
    history: SyntheticCustomers, fast_churn_config: ChurnTrainConfig
) -> None:
    other = run_rate_model("churn", 30, snapshot_rows(history.features, history.scoring_date))
    run = fit_and_score_churn(
        history.features,
        history.orders,
        history.scoring_date,
        ChurnConfig(train=fast_churn_config),
        champion=other,
    )
    assert run.decision is not None and run.decision.promote
    assert "another task or horizon" in run.decision.reason
    assert run.holdout is not None and CHAMPION not in run.holdout.predictions
    assert np.isfinite(run.holdout.metrics[NEW_MODEL]["churn_log_loss"])


def test_drift_is_measured_against_the_scoring_models_training_snapshot(
    history: SyntheticCustomers, fast_churn_config: ChurnTrainConfig, tmp_path: Path
) -> None:
    first = fit_and_score_churn(
        history.features, history.orders, history.scoring_date, ChurnConfig(train=fast_churn_config)
    )
    assert first.profile is not None and first.drift is not None
    # every model input but the month of the snapshot (it differs from training by design), and the scores
    assert set(first.drift["column"]) == {*first.model.features, "score"} - {SEASON_FEATURE}  # type: ignore[attr-defined]
    assert SEASON_FEATURE in first.model.features  # type: ignore[attr-defined]
    # Never blocks unless asked to: the default has no block_at.
    assert (first.drift["status"] != "block").all()
    stored = load_model(save_model(first.model, tmp_path))
    # The champion's profile, as if its customers had spent ten times as much: every money column moves.
    shifted = history.features.assign(
        monetary_total=history.features["monetary_total"] * 10,
        revenue_365d=history.features["revenue_365d"] * 10,
    )
    weak = dataclasses.replace(
        fast_churn_config, n_estimators=2, learning_rate=0.001, early_stopping_rounds=1
    )
    limits = DriftLimits(warn_at=0.1, block_at=0.25)
    run = fit_and_score_churn(
        history.features,
        history.orders,
        history.scoring_date,
        ChurnConfig(train=weak, drift=limits),
        champion=stored,
        champion_profile=drift_profile(
            stored, snapshot_rows(with_btyd_features(shifted, 90), history.scoring_date)
        ),  # type: ignore[arg-type]
    )
    assert run.model.model_version == stored.model_version  # the champion scored, against its own profile
    assert run.drift is not None
    blocked = set(run.drift.loc[run.drift["status"] == "block", "column"])
    assert {"monetary_total", "revenue_365d"} <= blocked
    assert run.drift.set_index("column").loc["frequency", "status"] == "ok"


def test_a_champion_that_learned_from_later_outcomes_never_scores_an_earlier_date(
    history: SyntheticCustomers, fast_churn_config: ChurnTrainConfig
) -> None:
    config = ChurnConfig(train=fast_churn_config)
    later = fit_and_score_churn(history.features, history.orders, history.scoring_date, config)
    earlier_date = sorted(history.features["snapshot_date"].unique())[-4]
    earlier = history.features.loc[history.features["snapshot_date"] <= earlier_date]
    alone = fit_and_score_churn(earlier, history.orders, earlier_date, config)
    run = fit_and_score_churn(earlier, history.orders, earlier_date, config, champion=later.model)
    assert run.decision is not None and run.decision.promote
    assert "after the scoring date" in run.decision.reason
    # What a run on that date saw, exactly: the later champion changed nothing.
    pd.testing.assert_frame_equal(run.scores, alone.scores)


@pytest.fixture(scope="module")
def trained_churn(history: SyntheticCustomers, fast_churn_config: ChurnTrainConfig) -> ChurnResult:
    return fit_and_score_churn(
        history.features, history.orders, history.scoring_date, ChurnConfig(train=fast_churn_config)
    )


def test_between_trainings_the_champion_scores_alone_as_it_did_when_trained(
    history: SyntheticCustomers,
    fast_churn_config: ChurnTrainConfig,
    trained_churn: ChurnResult,
    tmp_path: Path,
) -> None:
    trained = trained_churn
    champion = load_model(save_model(trained.model, tmp_path))
    at_scoring = history.features.loc[history.features["snapshot_date"] == history.scoring_date]
    alone = fit_and_score_churn(
        at_scoring,  # the scoring snapshot is all a run that does not train reads
        history.orders.iloc[:0],
        history.scoring_date,
        ChurnConfig(train=fast_churn_config),
        champion=champion,
        champion_profile=trained.profile,
        train=False,
    )
    assert alone.challenger is None and alone.decision is None and alone.holdout is None
    assert alone.model.model_version == trained.model.model_version and alone.fallback_reason is None
    pd.testing.assert_frame_equal(alone.scores, trained.scores)
    assert alone.drift is not None and "score" in set(alone.drift["column"])


@pytest.mark.parametrize(
    ("last_trained_days_before", "due"),
    [
        (None, "never"),
        (0, None),
        (6, None),
        (7, "models.retrain_every_days is 7"),
        (30, "models.retrain_every_days"),
    ],
)
def test_a_new_model_is_trained_on_the_cadence(
    history: SyntheticCustomers,
    fast_churn_config: ChurnTrainConfig,
    trained_churn: ChurnResult,
    last_trained_days_before: int | None,
    due: str | None,
) -> None:
    scoring, champion = history.scoring_date, trained_churn.model
    last = None if last_trained_days_before is None else scoring - pd.Timedelta(days=last_trained_days_before)
    reason = training_due(champion, last, scoring, fast_churn_config.horizon_days, every_days=7)
    assert reason is None if due is None else due in (reason or "")


def test_a_champion_that_cannot_score_the_date_always_sends_the_run_to_training(
    history: SyntheticCustomers, fast_churn_config: ChurnTrainConfig, trained_churn: ChurnResult
) -> None:
    scoring, champion = history.scoring_date, trained_churn.model
    horizon = fast_churn_config.horizon_days
    assert training_due(None, None, scoring, horizon, 7) == "no champion yet"
    assert "horizon" in (training_due(champion, scoring, scoring, horizon + 1, 7) or "")
    past = scoring - pd.Timedelta(days=horizon)  # the champion saw outcomes up to the scoring date
    assert "learned from outcomes after" in (training_due(champion, past, past, horizon, 7) or "")
    at_scoring = snapshot_rows(history.features, scoring)
    assert "not a LightGBM model" in (
        training_due(run_rate_model("churn", horizon, at_scoring), scoring, scoring, horizon, 7) or ""
    )
