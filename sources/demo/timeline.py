"""The demo's clock: the export period, the hidden future after it, and shopping hours.

Simulated times are float days since the first export day (midnight UTC); records carry whole seconds
since that midnight, which `sources.demo.text.timestamps` renders. Negative times lie before the period
(customers acquired earlier) and land in the first day's initial load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

SECONDS_PER_DAY = 86_400
FUTURE_DAYS = 365
# Relative web-shop traffic per UTC hour: quiet nights, a lunch bump and an evening peak.
WEB_HOUR_WEIGHTS = np.array(
    [2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 7, 7, 6, 6, 6, 7, 8, 10, 11, 10, 7, 4], dtype=np.float64
)
STORE_OPENING_HOURS = (9.0, 20.0)
# Latent dropout times are capped here so every timestamp fits pandas' nanosecond range.
LATEST_TIMESTAMP = datetime(2200, 1, 1)


@dataclass(frozen=True)
class Timeline:
    """Export days [start, end) and the hidden future [end, end + FUTURE_DAYS) that only the truth sees."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days

    @property
    def horizon_days(self) -> int:
        return self.n_days + FUTURE_DAYS

    @property
    def end_seconds(self) -> int:
        return self.n_days * SECONDS_PER_DAY

    @property
    def horizon_end(self) -> date:
        return self.end + timedelta(days=FUTURE_DAYS)

    @property
    def epoch_seconds(self) -> int:
        """Seconds from 1970-01-01 to the start midnight, to turn record seconds into UTC timestamps."""
        return (self.start - date(1970, 1, 1)).days * SECONDS_PER_DAY

    @property
    def latest_day(self) -> float:
        return float((LATEST_TIMESTAMP.date() - self.start).days)

    def export_dates(self) -> list[date]:
        return [self.start + timedelta(days=d) for d in range(self.n_days)]


def to_seconds(days: np.ndarray) -> np.ndarray:
    """Float days since start -> whole seconds since start (floor, so a time never moves later)."""
    return np.floor(days * SECONDS_PER_DAY).astype(np.int64)


def export_day(seconds: np.ndarray) -> np.ndarray:
    """The export day a record created at `seconds` first appears in: its own day, or day 0 if earlier."""
    return np.maximum(seconds // SECONDS_PER_DAY, 0).astype(np.int32)


def time_of_day(in_store: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fraction of a day for purchases: store visits within opening hours, web orders by hourly traffic."""
    hour = rng.choice(24, size=in_store.size, p=WEB_HOUR_WEIGHTS / WEB_HOUR_WEIGHTS.sum()) + rng.random(
        in_store.size
    )
    opening, closing = STORE_OPENING_HOURS
    store_hour = rng.uniform(opening, closing, size=in_store.size)
    return np.where(in_store, store_hour, hour) / 24.0
