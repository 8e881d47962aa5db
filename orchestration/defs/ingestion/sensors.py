"""A sensor that notices new or changed landing files and loads the export days they belong to.

Consecutive changed days become one single-run range, so a folder of two years of new exports is one
run, and re-delivering one day's file re-runs exactly that day (loads replace their window, so a
repeated request is harmless).
"""

import json
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from orchestration.defs.ingestion.assets import landing_assets, landing_contracts
from orchestration.defs.partitions import partition_range_tags
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


@dg.sensor(
    name="landing_files_sensor",
    description="Requests loads of the export days whose landing files are new or changed.",
    asset_selection=dg.AssetSelection.assets(*landing_assets),
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def landing_files_sensor(context: dg.SensorEvaluationContext, landing: LandingResource) -> dg.SensorResult:
    previous = json.loads(context.cursor) if context.cursor else {}
    current = export_day_fingerprints(Path(landing.path), landing_contracts)
    requests = [
        dg.RunRequest(
            run_key=f"{first}..{last}:{'-'.join(current[d.isoformat()] for d in (first, last))}",
            asset_selection=[a.key for a in landing_assets],
            tags=partition_range_tags(first, last),
        )
        for first, last in contiguous_ranges(changed_days(previous, current))
    ]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(current, sort_keys=True))
