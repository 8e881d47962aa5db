"""Churn calibration: a monotone map that fixes the scale of probabilities without touching their order,
falls back to the raw probabilities when there is too little to learn from, survives JSON, and a
reliability check and value at risk built on it."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from scipy.special import expit, logit

from ml.calibration import (
    CALIBRATION_MIN_PER_CLASS,
    CALIBRATION_MIN_ROWS,
    ISOTONIC_MIN_ROWS,
    Calibrator,
    cross_checked_calibrator,
    fit_calibrator,
    reliability,
    value_at_risk,
)
from ml.evaluate import log_loss, roc_auc

Distortion = Callable[[np.ndarray], np.ndarray]


def temperature(p: np.ndarray) -> np.ndarray:
    """An overconfident booster: the true logit doubled and shifted (temperature 0.5, bias 0.4)."""
    return np.asarray(expit(2.0 * logit(p) + 0.4))


def s_shape(p: np.ndarray) -> np.ndarray:
    """A distortion that is not logistic: the logit squared (keeping its sign), halved."""
    z = logit(p)
    return np.asarray(expit(np.sign(z) * z**2 / 2))


def held_out(rng: np.random.Generator, n: int, distortion: Distortion) -> tuple[np.ndarray, np.ndarray]:
    """`n` distorted probabilities and outcomes drawn from the true probabilities (base rate about 0.45)."""
    truth = expit(rng.normal(-0.3, 1.5, n))
    return distortion(truth), (rng.uniform(size=n) < truth).astype("float64")


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_a_calibrator_never_reorders_customers(rng: np.random.Generator, method: str) -> None:
    raw, churned = held_out(rng, 3000, s_shape)
    calibrator = fit_calibrator(raw, churned, method)  # type: ignore[arg-type]
    assert calibrator.method == method
    fresh = np.sort(rng.uniform(0.001, 0.999, 5000))
    calibrated = calibrator.apply(fresh)
    # Strictly increasing: plain (step) isotonic regression would tie whole blocks of customers.
    assert np.all(np.diff(calibrated) > 0)
    assert calibrated.min() >= 0 and calibrated.max() <= 1
    assert roc_auc(churned, calibrator.apply(raw)) == roc_auc(churned, raw)
    assert np.array_equal(calibrator.apply(np.array([0.3, 0.3])), np.repeat(calibrator.apply([0.3]), 2))


def test_platt_recovers_a_known_temperature(rng: np.random.Generator) -> None:
    raw, churned = held_out(rng, 20_000, temperature)
    calibrator = fit_calibrator(raw, churned, "platt")
    # logit(raw) = 2 z + 0.4, so z = 0.5 logit(raw) - 0.2
    assert calibrator.slope == pytest.approx(0.5, abs=0.03)
    assert calibrator.intercept == pytest.approx(-0.2, abs=0.05)
    assert calibrator.n_rows == 20_000


def test_platt_does_not_turn_a_perfectly_separated_sample_into_a_step(rng: np.random.Generator) -> None:
    # Against 0/1 targets the log loss falls forever as the slope grows, to a step at the gap between the
    # classes; Platt's smoothed targets give it a finite optimum.
    raw = np.concatenate([rng.uniform(0.05, 0.45, 60), rng.uniform(0.55, 0.95, 60)])
    churned = np.repeat([0.0, 1.0], 60)
    calibrator = fit_calibrator(raw, churned, "platt")
    assert calibrator.slope < 10
    assert 0.05 < calibrator.apply([0.45])[0] < calibrator.apply([0.55])[0] < 0.95


def test_auto_takes_isotonic_on_enough_rows_and_it_fixes_what_platt_cannot(rng: np.random.Generator) -> None:
    raw, churned = held_out(rng, 5000, s_shape)
    auto = fit_calibrator(raw, churned)
    assert auto.method == "isotonic"
    platt = fit_calibrator(raw, churned, "platt")
    fresh, fresh_churned = held_out(rng, 20_000, s_shape)
    assert reliability(fresh, fresh_churned).ece > 0.05
    assert reliability(platt.apply(fresh), fresh_churned).ece > 0.04
    assert reliability(auto.apply(fresh), fresh_churned).ece < 0.025


def test_auto_takes_platt_below_the_isotonic_minimum(rng: np.random.Generator) -> None:
    raw, churned = held_out(rng, ISOTONIC_MIN_ROWS - 1, temperature)
    assert fit_calibrator(raw, churned).method == "platt"


@pytest.mark.parametrize("method", ["auto", "platt", "isotonic"])
def test_too_little_to_learn_from_keeps_the_raw_probabilities(rng: np.random.Generator, method: str) -> None:
    raw, churned = held_out(rng, 5000, temperature)
    few_rows = slice(0, CALIBRATION_MIN_ROWS - 1)
    one_class = churned == 0
    rare_churn = np.flatnonzero(churned == 1)[: CALIBRATION_MIN_PER_CLASS - 1]
    rare = np.concatenate([np.flatnonzero(one_class), rare_churn])
    for rows in (few_rows, one_class, rare):
        calibrator = fit_calibrator(raw[rows], churned[rows], method)  # type: ignore[arg-type]
        assert calibrator.method == "identity"
        assert calibrator.n_rows == raw[rows].size
        assert np.array_equal(calibrator.apply(raw), raw)
    assert fit_calibrator([], [], method).n_rows == 0  # type: ignore[arg-type]


def test_fit_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="method must be"):
        fit_calibrator([0.5], [1], "beta")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="equal length"):
        fit_calibrator([0.2, 0.5], [1])
    with pytest.raises(ValueError, match="only 0 and 1"):
        fit_calibrator([0.2, 0.5], [1, 2])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        fit_calibrator([0.2, 1.5], [1, 0])
    with pytest.raises(ValueError, match="NaN"):
        fit_calibrator([0.2, np.nan], [1, 0])


@pytest.mark.parametrize("method", ["identity", "platt", "isotonic"])
def test_a_calibrator_survives_json(rng: np.random.Generator, method: str) -> None:
    raw, churned = held_out(rng, 3000, temperature)
    fitted = Calibrator() if method == "identity" else fit_calibrator(raw, churned, method)  # type: ignore[arg-type]
    loaded = Calibrator.from_dict(json.loads(json.dumps(fitted.to_dict())))
    assert loaded == fitted
    assert np.array_equal(loaded.apply(raw), fitted.apply(raw))


def test_a_bad_calibrator_dict_is_refused() -> None:
    good = Calibrator(method="platt", slope=0.5, intercept=0.1, n_rows=300).to_dict()
    with pytest.raises(ValueError, match="unknown calibrator format"):
        Calibrator.from_dict({**good, "format": 2})
    with pytest.raises(ValueError, match="malformed"):
        Calibrator.from_dict({k: v for k, v in good.items() if k != "slope"})
    with pytest.raises(ValueError, match="slope > 0"):
        Calibrator.from_dict({**good, "slope": 0.0})
    with pytest.raises(ValueError, match="method must be"):
        Calibrator.from_dict({**good, "method": "beta"})
    with pytest.raises(ValueError, match="strictly increasing"):
        Calibrator.from_dict({**good, "method": "isotonic", "knots": [[0, 0], [0.5, 0.5], [0.4, 1]]})
    with pytest.raises(ValueError, match="only an isotonic calibrator has knots"):
        Calibrator.from_dict({**good, "knots": [[0, 0], [1, 1]]})


def test_reliability_flags_a_miscalibrated_model_and_passes_a_calibrated_one(
    rng: np.random.Generator,
) -> None:
    truth = expit(rng.normal(-0.3, 1.5, 20_000))
    churned = (rng.uniform(size=truth.size) < truth).astype("float64")
    calibrated = reliability(truth, churned)
    assert calibrated.passed() and calibrated.ece < 0.02
    overconfident = reliability(temperature(truth), churned)
    assert not overconfident.passed() and overconfident.ece > 0.08
    assert overconfident.max_gap >= overconfident.ece
    assert overconfident.log_loss > calibrated.log_loss and overconfident.brier > calibrated.brier
    assert list(overconfident.bins.columns) == ["bin", "n", "mean_predicted", "observed_rate"]
    assert overconfident.bins["n"].sum() == overconfident.n == truth.size
    assert calibrated.observed_rate == pytest.approx(churned.mean())
    assert set(calibrated.metrics("raw_")) == {
        "raw_n",
        "raw_ece",
        "raw_max_gap",
        "raw_brier",
        "raw_log_loss",
        "raw_mean_predicted",
        "raw_observed_rate",
    }


def test_reliability_by_hand() -> None:
    # Two bins of two rows: predicted means 0.15 and 0.75 against observed rates 0 and 1.
    report = reliability([0.1, 0.2, 0.7, 0.8], [0, 0, 1, 1], n_bins=2)
    assert report.ece == pytest.approx((0.15 + 0.25) / 2)
    assert report.max_gap == pytest.approx(0.25)
    assert report.brier == pytest.approx((0.01 + 0.04 + 0.09 + 0.04) / 4)
    with pytest.raises(ValueError, match="at least one row"):
        reliability([], [])
    with pytest.raises(ValueError, match="only 0 and 1"):
        reliability([0.5], [0.5])


def test_calibration_fixes_reliability_on_fresh_rows(rng: np.random.Generator) -> None:
    raw, churned = held_out(rng, 2000, temperature)
    calibrator = fit_calibrator(raw, churned)
    fresh, fresh_churned = held_out(rng, 20_000, temperature)
    assert not reliability(fresh, fresh_churned).passed()
    assert reliability(calibrator.apply(fresh), fresh_churned).passed(max_ece=0.03)


def test_value_at_risk_is_probability_times_value() -> None:
    assert np.array_equal(value_at_risk([0.5, 0.0, 1.0], [100.0, 80.0, 20.0]), [50.0, 0.0, 20.0])
    assert value_at_risk([], []).shape == (0,)
    with pytest.raises(ValueError, match="same shape"):
        value_at_risk([0.5, 0.5], [100.0])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        value_at_risk([1.2], [100.0])
    with pytest.raises(ValueError, match="NaN"):
        value_at_risk([np.nan], [100.0])
    for bad_value in (-1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="finite and >= 0"):
            value_at_risk([0.5], [bad_value])


def test_cross_checked_calibration_is_used_only_where_it_helps_unseen_rows(rng: np.random.Generator) -> None:
    fold = rng.uniform(size=6000) < 0.5
    raw, churned = held_out(rng, 6000, temperature)
    calibrator, reason = cross_checked_calibrator(raw, churned, fold)
    assert calibrator.method != "identity", reason
    assert log_loss(churned, calibrator.apply(raw)) < log_loss(churned, raw)
    # Probabilities that already mean what they say: no fitted curve beats them on the other half.
    truthful, outcome = held_out(rng, 600, lambda p: p)
    kept, why = cross_checked_calibrator(truthful, outcome, rng.uniform(size=600) < 0.5, "isotonic")
    assert kept.method == "identity"
    assert why.startswith("kept raw")
    with pytest.raises(ValueError, match="one value per row"):
        cross_checked_calibrator(raw, churned, fold[:10])
