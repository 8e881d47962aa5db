"""When LightGBM cannot train, the BTYD baseline (or, when it cannot be fitted either, the run-rate model)
scores everyone and the result says why.

`lightgbm_blocker` decides; the cases below take its conditions one at a time, each at its boundary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.btyd import btyd_model, fit_btyd
from ml.pipeline import ChurnConfig, ClvConfig, fit_and_score_churn, fit_and_score_clv
from ml.score import RiskBands, snapshot_rows
from ml.synthetic import SyntheticCustomers, make_customer_frames
from ml.train import ChurnTrainConfig, ClvTrainConfig, lightgbm_blocker
from tests.ml.score_contracts import (
    CHURN_RESULT_COLUMNS,
    CLV_RESULT_COLUMNS,
    assert_equal_sized_deciles_highest_first,
)

SCORING = pd.Timestamp("2024-01-01")
MONTHLY = list(pd.date_range("2023-04-01", SCORING, freq="MS"))


def _labels(column: str, per_snapshot: dict[str, list[float]]) -> pd.DataFrame:
    dates = [pd.Timestamp(date) for date, values in per_snapshot.items() for _ in values]
    values = [value for values in per_snapshot.values() for value in values]
    return pd.DataFrame(
        {"customer_id": [f"c{index}" for index in range(len(values))], "snapshot_date": dates, column: values}
    )


def _blocker(
    task: str, labels: pd.DataFrame, min_child_samples: int = 5, horizon_days: int = 90
) -> str | None:
    return lightgbm_blocker(task, labels, MONTHLY, SCORING, horizon_days, min_child_samples)  # type: ignore[arg-type]


BOTH_CLASSES = [0.0, 1.0] * 5  # 10 rows = 2 x min_child_samples of 5


def test_fewer_than_two_labelled_snapshots() -> None:
    # Guards against the crash of a CLV run whose horizon is longer than the history (no labelled snapshot).
    assert _blocker("clv", _labels("future_net_revenue", {}), horizon_days=273) == (
        "LightGBM needs at least 2 snapshots whose 273-day outcome window ends by the scoring date "
        "2024-01-01; found 0 (snapshots from 2023-04-01 to 2024-01-01)"
    )
    one = _labels("churned", {"2023-04-01": BOTH_CLASSES * 3})
    assert "found 1 (snapshots from 2023-04-01 to 2024-01-01)" in str(_blocker("churn", one))
    no_snapshots = lightgbm_blocker("churn", one.iloc[:0], [], SCORING, 90, 5)
    assert no_snapshots is not None and no_snapshots.endswith("found 0 (no snapshots)")
    two = _labels("churned", {"2023-04-01": BOTH_CLASSES, "2023-05-01": [1.0]})
    assert _blocker("churn", two) is None


def test_fewer_training_rows_than_two_leaves_need() -> None:
    # The validation snapshot's rows do not count: the early-stopped booster never fits them.
    short = _labels("churned", {"2023-04-01": BOTH_CLASSES[:9], "2023-05-01": BOTH_CLASSES * 10})
    assert _blocker("churn", short) == (
        "LightGBM needs at least 10 training rows (2 x min_child_samples=5) in the snapshots before the "
        "validation snapshot 2023-05-01; found 9"
    )
    enough = _labels(
        "churned", {"2023-04-01": BOTH_CLASSES[:4], "2023-05-01": BOTH_CLASSES[4:], "2023-06-01": [0.0]}
    )
    assert _blocker("churn", enough) is None


@pytest.mark.parametrize(("label", "outcome"), [(1.0, "churned"), (0.0, "retained")])
def test_churn_labels_of_a_single_class(label: float, outcome: str) -> None:
    # The validation snapshot may hold the other class: it is not trained on.
    single = _labels("churned", {"2023-04-01": [label] * 10, "2023-05-01": [1.0 - label]})
    assert _blocker("churn", single) == (
        "LightGBM needs both churned and retained customers in the training rows before the validation "
        f"snapshot 2023-05-01; all 10 are {outcome}"
    )
    one_of_the_other = _labels("churned", {"2023-04-01": [label] * 9 + [1.0 - label], "2023-05-01": [label]})
    assert _blocker("churn", one_of_the_other) is None


def test_clv_without_positive_future_revenue() -> None:
    nothing = _labels("future_net_revenue", {"2023-04-01": [0.0] * 9 + [-5.0], "2023-05-01": [100.0]})
    assert _blocker("clv", nothing, horizon_days=30) == (
        "LightGBM needs some customers with positive 30-day future revenue in the training rows before the "
        "validation snapshot 2023-05-01; found none in 10 rows"
    )
    one_buyer = _labels("future_net_revenue", {"2023-04-01": [0.0] * 9 + [0.01], "2023-05-01": [0.0]})
    assert _blocker("clv", one_buyer, horizon_days=30) is None


@pytest.fixture(scope="module")
def nine_months() -> SyntheticCustomers:
    return make_customer_frames(
        n_customers=300,
        seed=17,
        scoring_date=str(SCORING.date()),
        snapshot_dates=[str(d.date()) for d in MONTHLY],
    )


SHORT_HISTORY = (
    "LightGBM needs at least 2 snapshots whose 273-day outcome window ends by the scoring date "
    "2024-01-01; found 1 (snapshots from 2023-04-01 to 2024-01-01)"
)


def test_nine_months_of_history_and_a_273_day_clv_horizon_score_every_customer_by_btyd(
    nine_months: SyntheticCustomers,
) -> None:
    data = nine_months
    result = fit_and_score_clv(
        data.features, data.orders, SCORING, ClvConfig(train=ClvTrainConfig(horizon_days=273))
    )
    at_scoring = snapshot_rows(data.features, SCORING)
    reason = f"{SHORT_HISTORY}; the BTYD baseline (BG/NBD + Gamma-Gamma) scored"
    assert result.model_kind == "btyd"
    assert result.fallback_reason == reason
    assert result.metrics["model_kind"] == "btyd"
    scores = result.scores
    assert list(scores.columns) == CLV_RESULT_COLUMNS
    assert scores["customer_id"].tolist() == at_scoring["customer_id"].tolist()
    assert scores["model_version"].str.match(r"^clv-btyd-[0-9a-f]{12}$").all()
    expected = btyd_model("clv", 273, fit_btyd(at_scoring)).predict(at_scoring)
    np.testing.assert_allclose(scores["predicted_revenue"], expected)
    assert_equal_sized_deciles_highest_first(scores)


def test_without_repeat_customers_the_run_rate_model_scores(nine_months: SyntheticCustomers) -> None:
    # Nobody ordered twice: BG/NBD has no repeat behaviour to fit, so the model that needs nothing scores.
    data = nine_months
    one_order = data.features["frequency"] > 1
    features = data.features.assign(
        frequency=data.features["frequency"].where(~one_order, 1),
        mean_days_between_orders=data.features["mean_days_between_orders"].where(~one_order),
    )
    result = fit_and_score_clv(
        features, data.orders, SCORING, ClvConfig(train=ClvTrainConfig(horizon_days=273))
    )
    at_scoring = features.loc[features["snapshot_date"] == SCORING].sort_values("customer_id")
    reason = f"{SHORT_HISTORY}; the run-rate model scored (BG/NBD needs at least "
    assert result.model_kind == "run_rate"
    assert result.fallback_reason is not None and result.fallback_reason.startswith(reason)
    assert result.metrics["model_kind"] == "run_rate"
    assert result.metrics["fallback_reason"] == result.fallback_reason
    assert result.metrics["n_scored"] == len(at_scoring)
    scores = result.scores
    assert list(scores.columns) == CLV_RESULT_COLUMNS
    assert scores["customer_id"].tolist() == at_scoring["customer_id"].tolist()
    assert (scores["horizon_days"] == 273).all()
    assert scores["model_version"].str.match(r"^clv-runrate-[0-9a-f]{12}$").all()
    assert scores["model_version"].nunique() == 1
    with_orders = at_scoring["orders_365d"].to_numpy() > 0
    exposure = at_scoring["tenure_days"].clip(90, 365).to_numpy()
    expected = np.where(
        with_orders, at_scoring["revenue_365d"].clip(lower=0).to_numpy() * 273 / exposure, 0.0
    )
    np.testing.assert_allclose(scores["predicted_revenue"], expected)
    assert_equal_sized_deciles_highest_first(scores)  # as for LightGBM
    # Deterministic: the same inputs give the same scores and version.
    again = fit_and_score_clv(
        features, data.orders, SCORING, ClvConfig(train=ClvTrainConfig(horizon_days=273))
    )
    pd.testing.assert_frame_equal(again.scores, scores)


def test_single_class_churn_training_set_falls_back(nine_months: SyntheticCustomers) -> None:
    # No order after any snapshot: every training customer churned, so there is nothing to contrast.
    data = nine_months
    bands = RiskBands(medium_from=0.3, high_from=0.6)
    result = fit_and_score_churn(data.features, data.orders.iloc[:0], SCORING, ChurnConfig(risk_bands=bands))
    at_scoring = data.features.loc[data.features["snapshot_date"] == SCORING].sort_values("customer_id")
    assert result.model_kind == "btyd"
    assert result.fallback_reason is not None
    assert result.fallback_reason.startswith("LightGBM needs both churned and retained customers")
    assert result.fallback_reason.endswith("are churned; the BTYD baseline (BG/NBD + Gamma-Gamma) scored")
    scores = result.scores
    assert list(scores.columns) == CHURN_RESULT_COLUMNS
    assert scores["customer_id"].tolist() == at_scoring["customer_id"].tolist()
    assert scores[["reason_1", "reason_2", "reason_3"]].isna().all().all()
    assert result.metrics["n_explained"] == 0
    at_scoring = snapshot_rows(data.features, SCORING)
    expected = btyd_model("churn", 90, fit_btyd(at_scoring)).predict(at_scoring)
    np.testing.assert_allclose(scores["churn_probability"], expected)
    assert (scores["risk_band"] == bands.assign(scores["churn_probability"].to_numpy())).all()
    assert scores["model_version"].str.startswith("churn-btyd-").all()
    assert result.metrics["n_low_risk"] + result.metrics["n_medium_risk"] + result.metrics[
        "n_high_risk"
    ] == len(at_scoring)


def test_too_few_training_rows_fall_back() -> None:
    few = make_customer_frames(
        n_customers=80, seed=2, snapshot_dates=["2023-01-01", "2023-04-01", "2023-10-01", "2024-01-15"]
    )
    config = ChurnConfig(train=ChurnTrainConfig(n_estimators=5))
    result = fit_and_score_churn(few.features, few.orders, few.scoring_date, config)
    assert result.model_kind in ("btyd", "run_rate")
    assert result.fallback_reason is not None
    assert result.fallback_reason.startswith(
        "LightGBM needs at least 200 training rows (2 x min_child_samples=100) in the snapshots before the "
        "validation snapshot 2023-10-01; found "
    )
    assert len(result.scores) == (few.features["snapshot_date"] == few.scoring_date).sum()


def test_bad_input_still_raises_whichever_model_would_score(nine_months: SyntheticCustomers) -> None:
    # The fallback is for thin history, not for broken inputs: a missing column fails the run even where
    # the run-rate model, which does not read it, would have scored.
    config = ClvConfig(train=ClvTrainConfig(horizon_days=273))
    features, orders = nine_months.features, nine_months.orders
    with pytest.raises(ValueError, match="feature frame is missing required columns: recency_days"):
        fit_and_score_clv(features.drop(columns="recency_days"), orders, SCORING, config)
    with pytest.raises(ValueError, match="orders frame is missing required columns: net_amount"):
        fit_and_score_churn(features, orders.drop(columns="net_amount"), SCORING)
    without_scoring = features.loc[features["snapshot_date"] != SCORING]
    with pytest.raises(ValueError, match="orders frame is missing required columns: ordered_at"):
        fit_and_score_churn(without_scoring, orders.drop(columns="ordered_at"), SCORING)
