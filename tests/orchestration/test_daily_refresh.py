"""The daily refresh schedule asks for the day that has just ended in the business's time zone, and says why
when the calendar has no such day instead of replaying its last one."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.definitions import defs
from orchestration.defs.jobs import daily_refresh_job, daily_refresh_schedule, day_to_refresh
from orchestration.lib.deployment import DEPLOYMENT

ZONE = ZoneInfo(DEPLOYMENT.calendar.timezone)


def test_a_tick_in_the_calendar_asks_for_the_day_that_has_just_ended() -> None:
    tick = datetime(2024, 6, 12, 6, 0, tzinfo=ZONE)
    assert day_to_refresh(tick) == date(2024, 6, 11)
    context = dg.build_schedule_context(scheduled_execution_time=tick)
    request = daily_refresh_schedule(context)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2024-06-11"


def test_after_a_closed_calendar_the_schedule_skips_saying_why() -> None:
    # the demo's calendar ends on 2025-12-31: a tick in 2026 has nothing to load, and must not reload that day
    assert DEPLOYMENT.calendar.end_date == date(2026, 1, 1)
    skip = day_to_refresh(datetime(2026, 11, 27, 6, 0, tzinfo=ZONE))
    assert isinstance(skip, dg.SkipReason)
    assert "calendar closed on 2025-12-31" in (skip.skip_message or "")
    before = day_to_refresh(datetime(2024, 1, 1, 6, 0, tzinfo=ZONE))
    assert isinstance(before, dg.SkipReason)


def test_the_refresh_reaches_the_published_copy() -> None:
    job = defs.resolve_job_def(daily_refresh_job.name)
    keys = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert {"raw/sales_orders", "marts/fct_orders", "ml/customer_clv", "bi/customer_360"} <= keys
    assert "serving/bi_warehouse" in keys
