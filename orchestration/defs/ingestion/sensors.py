"""A sensor that notices new or changed landing files and refreshes everything downstream of their days.

Consecutive changed days become one run of the `daily_refresh` job over their range: the raw loads of
those days, then the warehouse (its facts pick up exactly what was loaded), the models,
`bi.customer_360` and the published copy. A folder of two years of new exports is one run, and
re-delivering one day's file re-runs exactly that day (loads replace their days, so a repeated request
is harmless). A day waits until every enabled source's file for it is there; a file for a day outside
the calendar (or not yet complete, such as today) is reported and left alone.
"""

import json
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from orchestration.defs.ingestion.assets import landing_contracts
from orchestration.defs.jobs import daily_refresh_job
from orchestration.defs.partitions import daily_partitions, partition_range_tags
from orchestration.lib.landing import LandingResource
from sources.landing import changed_days, export_day_fingerprints


def contiguous_ranges(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days grouped into inclusive (first, last) runs of consecutive days."""
    ranges: list[tuple[date, date]] = []
    for day in days:
        if ranges and day == ranges[-1][1] + timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def complete_day(landing_dir: Path, day: date) -> bool:
    """Every enabled landing source has its file for `day` (a missing one would fail the day's load)."""
    return all(contract.file_for(landing_dir, day).is_file() for contract in landing_contracts)


@dg.sensor(
    name="landing_files_sensor",
    description="Refreshes raw, the warehouse, the models and the published copy for the export days whose "
    "landing files are new or changed, once every enabled source's file for a day is there.",
    job=daily_refresh_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def landing_files_sensor(context: dg.SensorEvaluationContext, landing: LandingResource) -> dg.SensorResult:
    landing_dir = Path(landing.path)
    previous = json.loads(context.cursor) if context.cursor else {}
    current = export_day_fingerprints(landing_dir, landing_contracts)
    in_calendar = set(daily_partitions.get_partition_keys())
    due, outside, waiting = [], [], []
    for day in changed_days(previous, current):
        if day.isoformat() not in in_calendar:
            outside.append(day)
        elif complete_day(landing_dir, day):
            due.append(day)
        else:
            waiting.append(day)
    if outside:
        context.log.warning(
            f"left alone: files for {len(outside)} day(s) outside the calendar's complete days, "
            f"{outside[0]} .. {outside[-1]}"
        )
    if waiting:
        context.log.info(f"waiting for every source's file: {', '.join(map(str, waiting))}")
    # a waiting day stays out of the cursor, so it is looked at again when its last file arrives
    acted_on = {day.isoformat() for day in (*due, *outside)}
    cursor = {d: print_ for d, print_ in current.items() if d in acted_on or previous.get(d) == print_}
    requests = [
        dg.RunRequest(
            run_key=f"{first}..{last}:{'-'.join(current[d.isoformat()] for d in (first, last))}",
            tags=partition_range_tags(first, last),
        )
        for first, last in contiguous_ranges(due)
    ]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))
