"""The daily calendar every partitioned asset shares: one partition per export day."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import dagster as dg

from orchestration.lib.deployment import DEPLOYMENT

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=DEPLOYMENT.calendar.start_date.isoformat(),
    end_date=DEPLOYMENT.calendar.end_date.isoformat() if DEPLOYMENT.calendar.end_date else None,
    timezone=DEPLOYMENT.calendar.timezone,
)

# An analyst's backfill of two years of days is one run, not 730: every partitioned step reads or
# replaces its whole window in one pass.
single_run_backfill = dg.BackfillPolicy.single_run()
# `backfill_policy` is marked beta; we rely on it deliberately, so its notice on every asset is noise.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)


def window_dates(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """The run's half-open window of export days [start, end), whether one partition or a range."""
    window = context.partition_time_window
    return window.start.date(), window.end.date()


def days_in(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


def partition_range_tags(first_day: date, last_day: date) -> dict[str, str]:
    """Run tags that make one run cover the inclusive partition range [first_day, last_day]."""
    return {
        "dagster/asset_partition_range_start": first_day.isoformat(),
        "dagster/asset_partition_range_end": last_day.isoformat(),
    }
