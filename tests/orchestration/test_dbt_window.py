"""The partition window handed to dbt: half-open, so neighbouring runs never share a day."""

from __future__ import annotations

import json
from datetime import date

import pytest

from orchestration.lib.dbt import window_vars


def test_window_is_half_open_with_exclusive_end() -> None:
    # Guards the inclusive-upper-bound bug: a one-day partition [d, d+1) must not end on d.
    assert json.loads(window_vars(date(2024, 3, 1), date(2024, 3, 2))) == {
        "min_date": "2024-03-01",
        "max_date": "2024-03-02",
    }


def test_consecutive_windows_meet_without_overlap() -> None:
    first = json.loads(window_vars(date(2024, 1, 1), date(2024, 2, 1)))
    second = json.loads(window_vars(date(2024, 2, 1), date(2024, 3, 1)))
    assert first["max_date"] == second["min_date"]


def test_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="empty partition window"):
        window_vars(date(2024, 3, 1), date(2024, 3, 1))
