"""The daily refresh: the last complete export day through the whole graph, every morning.

One run: the raw loads of that day (a partition), then the warehouse (its facts pick up exactly what was
loaded), the models, `bi.customer_360` and the published copy. The schedule runs in the business's time
zone and asks for the day that has just ended there; a calendar that is closed (the demo's) has no such
day, and the schedule says so instead of replaying its last one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

from orchestration.defs.partitions import daily_partitions
from orchestration.lib.deployment import DEPLOYMENT

daily_refresh_job = dg.define_asset_job(
    name="daily_refresh",
    selection=dg.AssetSelection.all(),
    partitions_def=daily_partitions,
    description="Loads one export day and rebuilds everything downstream of it, up to the published copy.",
)


def day_to_refresh(now: datetime) -> date | dg.SkipReason:
    """The export day a tick at `now` (in the business's time zone) loads: the last complete day, or why
    there is none (outside a closed calendar, or before it starts)."""
    calendar = DEPLOYMENT.calendar
    day = now.date() - timedelta(days=1)
    if calendar.end_date is not None and day >= calendar.end_date:
        return dg.SkipReason(
            f"the calendar closed on {calendar.end_date - timedelta(days=1)} (calendar.end_date): no export "
            f"day is due; open the calendar to refresh daily"
        )
    if day < calendar.start_date:
        return dg.SkipReason(f"the calendar starts on {calendar.start_date}: no export day is due before it")
    return day


@dg.schedule(
    job=daily_refresh_job,
    cron_schedule="0 6 * * *",
    execution_timezone=DEPLOYMENT.calendar.timezone,
    description="At 06:00 in the business's time zone, loads the day that has just ended and refreshes "
    "everything downstream; skips, saying why, when the calendar has no such day.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def daily_refresh_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    day = day_to_refresh(context.scheduled_execution_time)
    if isinstance(day, dg.SkipReason):
        return day
    return dg.RunRequest(run_key=day.isoformat(), partition_key=day.isoformat())
