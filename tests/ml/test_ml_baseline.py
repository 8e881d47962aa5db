"""The run-rate model: its formula on hand-made customers, its bounds, and a version that names its inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.baseline import RunRateModel, run_rate_model

T = pd.Timestamp("2024-01-01")


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["new", "young", "old", "lapsed", "refunder", "no_tenure", "no_counts"],
            "snapshot_date": [T] * 7,
            "tenure_days": [2.0, 200.0, 1000.0, 400.0, 300.0, np.nan, 50.0],
            "orders_365d": [1.0, 4.0, 6.0, 0.0, 2.0, 3.0, np.nan],
            "revenue_365d": [50.0, 400.0, 600.0, 0.0, -40.0, 90.0, np.nan],
        }
    )


def test_daily_rate_is_orders_over_exposure_clamped_to_90_and_365_days() -> None:
    model = run_rate_model("churn", 90, _customers())
    expected = [
        1 / 90,  # two days of tenure count as the 90-day minimum exposure, not as 1 order per 2 days
        4 / 200,
        6 / 365,  # orders_365d looks back a year at most, so longer tenure must not dilute it
        0.0,
        2 / 300,
        3 / 365,  # unknown tenure: the full year, the smallest rate
        0.0,  # unknown orders: none
    ]
    np.testing.assert_allclose(model.daily_order_rate(_customers()), expected)


def test_churn_is_the_poisson_chance_of_no_order_within_the_horizon() -> None:
    frame = _customers()
    for horizon_days in (30, 90, 273):
        model = run_rate_model("churn", horizon_days, frame)
        churn = model.predict(frame)
        np.testing.assert_allclose(churn, np.exp(-model.daily_order_rate(frame) * horizon_days))
        assert ((churn >= 0) & (churn <= 1)).all()
    assert run_rate_model("churn", 90, frame).predict(frame)[0] == pytest.approx(np.exp(-1.0))


def test_clv_is_expected_orders_times_net_order_value_never_negative() -> None:
    frame = _customers()
    clv = run_rate_model("clv", 273, frame).predict(frame)
    expected = [
        1 / 90 * 273 * 50.0,
        4 / 200 * 273 * 100.0,
        6 / 365 * 273 * 100.0,
        0.0,
        0.0,  # net refunds: worth nothing, not less
        3 / 365 * 273 * 30.0,
        0.0,
    ]
    np.testing.assert_allclose(clv, expected)


def test_version_names_task_settings_and_inputs_not_their_order() -> None:
    frame = _customers()
    version = run_rate_model("clv", 365, frame).model_version
    assert version.startswith("clv-runrate-")
    assert run_rate_model("churn", 365, frame).model_version.startswith("churn-runrate-")
    assert run_rate_model("clv", 365, frame.iloc[::-1]).model_version == version
    assert run_rate_model("clv", 273, frame).model_version != version
    assert run_rate_model("clv", 365, frame, min_exposure_days=30).model_version != version
    changed = frame.assign(orders_365d=frame["orders_365d"].fillna(0.0) + 1)
    assert run_rate_model("clv", 365, changed).model_version != version


def test_settings_out_of_range_are_rejected() -> None:
    with pytest.raises(ValueError, match="horizon_days must be positive"):
        RunRateModel(task="churn", horizon_days=0, model_version="v")
    with pytest.raises(ValueError, match="min_exposure_days"):
        RunRateModel(task="churn", horizon_days=90, model_version="v", min_exposure_days=400)
    with pytest.raises(ValueError, match="missing required columns: orders_365d"):
        run_rate_model("churn", 90, _customers().drop(columns="orders_365d"))
