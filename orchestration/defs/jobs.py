"""The daily refresh: yesterday's exports through the whole graph, every morning."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.partitions import daily_partitions

daily_refresh_job = dg.define_asset_job(
    name="daily_refresh",
    selection=dg.AssetSelection.all(),
    partitions_def=daily_partitions,
    description="Loads one export day and rebuilds everything downstream of it.",
)

daily_refresh_schedule = dg.build_schedule_from_partitioned_job(daily_refresh_job, hour_of_day=6)
