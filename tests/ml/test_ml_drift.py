"""Population stability: zero for the same population, large for a shifted one, nulls and constant columns
as drift of their own, a stored profile that gives exactly the direct figures, and the status thresholds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ml.drift import (
    drift_report,
    drift_status,
    drift_summary,
    profile,
    profile_drift_report,
    psi,
    psi_against_profile,
)


def _population(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "recency_days": rng.gamma(2.0, 30.0, n) + shift * 60.0,
            "orders_90d": rng.poisson(0.4 + shift, n),
            "region": rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2]),
            "churn_probability": rng.beta(2.0, 5.0, n),
        }
    )


def test_the_same_population_is_stable(rng: np.random.Generator) -> None:
    reference = _population(rng, 20_000)
    assert psi(reference["recency_days"], reference["recency_days"]) == 0.0
    # Another sample of the same population: sampling noise only, far below the warn level.
    resampled = _population(rng, 20_000)
    for column in reference.columns:
        assert psi(reference[column], resampled[column]) < 0.01, column


def test_a_shifted_population_blocks(rng: np.random.Generator) -> None:
    reference = rng.normal(0.0, 1.0, 10_000)
    assert psi(reference, rng.normal(1.0, 1.0, 10_000)) > 0.25
    # A one-sided tail beyond the reference range lands in the open outer bin, so it is still seen.
    assert psi(reference, rng.normal(0.0, 1.0, 10_000) + 5.0) > 0.25


def test_many_ties_merge_bins_instead_of_splitting_them(rng: np.random.Generator) -> None:
    # Mostly zero: the deciles repeat 0, and every zero must fall in one bin on both sides; a split tie
    # would make two identical populations look different.
    counts = rng.poisson(0.2, 5_000)
    reference = profile(pd.DataFrame({"orders": counts}), ["orders"])["columns"]["orders"]
    assert len(reference["edges"]) == len(set(reference["edges"]))
    assert psi(counts, rng.permutation(counts)) == 0.0
    assert psi(counts, rng.poisson(0.2, 5_000)) < 0.01
    assert psi(counts, rng.poisson(1.0, 5_000)) > 0.25


def test_nulls_are_a_bin_of_their_own() -> None:
    reference = pd.Series([1.0, 2.0, 3.0, 4.0, np.nan] * 200)
    assert psi(reference, reference.sample(frac=1.0, random_state=0)) == 0.0
    # Same values, but a feature that starts arriving empty: drift, though the non-null values did not move.
    half_empty = pd.Series([1.0, 2.0, 3.0, 4.0, np.nan, np.nan, np.nan, np.nan] * 200)
    assert psi(reference, half_empty) > 0.25
    # A column null in the reference throughout: its one value bin is empty there, not a division by zero.
    assert psi(pd.Series([np.nan] * 100), pd.Series([np.nan] * 50)) == 0.0
    assert psi(pd.Series([np.nan] * 100), pd.Series([1.0] * 50)) > 0.25


def test_constant_columns_see_moves_in_either_direction() -> None:
    constant = np.full(1_000, 3.0)
    assert psi(constant, np.full(10, 3.0)) == 0.0
    assert psi(constant, np.full(10, 2.0)) > 0.25
    assert 0.25 < psi(constant, np.full(10, 4.0)) < np.inf


def test_categories_and_booleans_compare_by_value(rng: np.random.Generator) -> None:
    regions = pd.Series(rng.choice(["north", "south"], 1_000))
    assert psi(regions, regions.iloc[::-1]) == 0.0
    assert psi(regions, pd.Series(["west"] * 500)) > 0.25  # a region the reference never had
    consent = pd.Series([True, False, None] * 100, dtype="boolean")
    assert psi(consent, consent) == 0.0
    assert psi(consent, pd.Series([True] * 300, dtype="boolean")) > 0.25


def test_a_stored_profile_gives_exactly_the_direct_figures(rng: np.random.Generator) -> None:
    reference, current = _population(rng, 5_000), _population(rng, 3_000, shift=0.5)
    columns = list(reference.columns)
    direct = drift_report(reference, current, columns)
    stored = json.loads(json.dumps(profile(reference, columns), allow_nan=False))
    from_profile = profile_drift_report(stored, current)
    pd.testing.assert_frame_equal(direct, from_profile)
    assert psi_against_profile(stored, current) == dict(zip(direct["column"], direct["psi"], strict=True))
    assert direct["column"].tolist() == columns


def test_thresholds_give_the_status_and_the_summary_the_worst() -> None:
    assert drift_status(0.0999) == "ok"
    assert drift_status(0.1) == "warn"
    assert drift_status(0.25) == "block"
    assert drift_status(0.3, warn_at=0.2, block_at=0.5) == "warn"
    rows = 1_000
    reference = pd.DataFrame(
        {"stable": np.arange(rows) % 10, "moved": np.arange(rows) % 10, "gone": [1.0] * rows}
    )
    current = pd.DataFrame(
        {"stable": np.arange(rows) % 10, "moved": np.arange(rows) % 5, "gone": [np.nan] * rows}
    )
    report = drift_report(reference, current, ["stable", "moved", "gone"], warn_at=0.1, block_at=5.0)
    assert report["status"].tolist() == ["ok", "warn", "block"]
    summary = drift_summary(report)
    assert summary["drift_status"] == "block"
    assert summary["max_psi_column"] == "gone"
    assert (summary["n_warn"], summary["n_block"], summary["block_columns"]) == (1, 1, "gone")
    assert drift_summary(report.iloc[:1])["drift_status"] == "ok"


def test_inputs_that_cannot_be_compared_are_refused() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(ValueError, match="no rows"):
        profile(frame.iloc[:0], ["x"])
    with pytest.raises(ValueError, match="no rows"):
        psi_against_profile(profile(frame, ["x"]), frame.iloc[:0])
    with pytest.raises(ValueError, match="current frame is missing required columns: x"):
        psi_against_profile(profile(frame, ["x"]), frame.rename(columns={"x": "y"}))
    with pytest.raises(ValueError, match="warn_at"):
        drift_report(frame, frame, ["x"], warn_at=0.3, block_at=0.2)
