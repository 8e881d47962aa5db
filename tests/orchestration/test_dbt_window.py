"""The partition window handed to dbt: half-open, so neighbouring runs never share a day."""

from __future__ import annotations

from datetime import date

import pytest

from orchestration.lib.dbt import window_vars


def test_window_is_half_open_with_exclusive_end() -> None:
    # Guards the inclusive-upper-bound bug: a one-day partition [d, d+1) must not end on d.
    assert window_vars(date(2024, 3, 1), date(2024, 3, 2)) == {
        "min_date": "2024-03-01",
        "max_date": "2024-03-02",
        "lookback_days": 0,
    }


def test_consecutive_windows_meet_without_overlap() -> None:
    first = window_vars(date(2024, 1, 1), date(2024, 2, 1))
    second = window_vars(date(2024, 2, 1), date(2024, 3, 1))
    assert first["max_date"] == second["min_date"]


def test_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="empty partition window"):
        window_vars(date(2024, 3, 1), date(2024, 3, 1))


def test_lookback_is_passed_and_never_negative() -> None:
    # The facts must re-read the days a shop-database load with the same lookback replaced.
    assert window_vars(date(2024, 3, 5), date(2024, 3, 6), 3)["lookback_days"] == 3
    with pytest.raises(ValueError, match="lookback_days must be >= 0"):
        window_vars(date(2024, 3, 1), date(2024, 3, 2), -1)
