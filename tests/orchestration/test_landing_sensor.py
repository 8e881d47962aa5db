"""The landing sensor: complete new or changed export days become single runs of the daily refresh over their
range, from the raw loads to the published copy; incomplete days wait, days outside the calendar are left alone."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import dagster as dg

from orchestration.defs.ingestion.assets import landing_contracts
from orchestration.defs.ingestion.sensors import contiguous_ranges, landing_files_sensor
from orchestration.lib.landing import LandingResource
from sources.contracts import CONTACTS, ORDERS

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def touch_export(path: Path, text: str = "x\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def deliver(landing: Path, *days: date) -> None:
    """Every enabled source's file for each day, as a complete export day arrives."""
    for day in days:
        for contract in landing_contracts:
            touch_export(contract.file_for(landing, day))


def tick(landing: Path, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        cursor=cursor, resources={"landing": LandingResource(path=str(landing))}
    )
    result = landing_files_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def requested_ranges(result: dg.SensorResult) -> list[tuple[str, str]]:
    return [(r.tags[RANGE_START], r.tags[RANGE_END]) for r in result.run_requests or []]


def test_new_days_are_requested_as_contiguous_ranges_of_the_daily_refresh_then_not_again(
    tmp_path: Path,
) -> None:
    deliver(tmp_path, date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 7))
    first = tick(tmp_path, None)
    assert requested_ranges(first) == [("2024-01-01", "2024-01-03"), ("2024-01-07", "2024-01-07")]
    # the sensor's job is the daily refresh: raw, warehouse, models and the published copy in one run
    assert landing_files_sensor.job_name == "daily_refresh"
    assert requested_ranges(tick(tmp_path, first.cursor)) == []


def test_a_redelivered_file_requests_only_its_day(tmp_path: Path) -> None:
    deliver(tmp_path, date(2024, 1, 1), date(2024, 1, 2))
    first = tick(tmp_path, None)
    changed = CONTACTS.file_for(tmp_path, date(2024, 1, 2))
    touch_export(changed, "{}\n")
    later = tick(tmp_path, first.cursor)
    assert requested_ranges(later) == [("2024-01-02", "2024-01-02")]
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert requested_ranges(tick(tmp_path, later.cursor)) == [("2024-01-02", "2024-01-02")]


def test_a_day_waits_for_every_sources_file(tmp_path: Path) -> None:
    # the orders of a day arrive before the CRM's: loading the day now would fail on the missing exports
    touch_export(ORDERS.file_for(tmp_path, date(2024, 1, 5)))
    early = tick(tmp_path, None)
    assert requested_ranges(early) == []
    deliver(tmp_path, date(2024, 1, 5))
    assert requested_ranges(tick(tmp_path, early.cursor)) == [("2024-01-05", "2024-01-05")]


def test_files_outside_the_calendar_or_the_layout_are_left_alone(tmp_path: Path) -> None:
    # a stray day before the calendar starts must never be merged into a range with real days
    deliver(tmp_path, date(2023, 12, 31), date(2024, 1, 1))
    touch_export(tmp_path / "sales" / "orders" / "notes.csv")
    first = tick(tmp_path, None)
    assert requested_ranges(first) == [("2024-01-01", "2024-01-01")]
    assert requested_ranges(tick(tmp_path, first.cursor)) == []


def test_contiguous_ranges() -> None:
    days = [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1), date(2024, 3, 5)]
    assert contiguous_ranges(days) == [
        (date(2024, 2, 28), date(2024, 3, 1)),
        (date(2024, 3, 5), date(2024, 3, 5)),
    ]
    assert contiguous_ranges([]) == []


def test_a_name_that_only_parses_as_a_day_is_not_that_days_export(tmp_path: Path) -> None:
    # `date.fromisoformat` reads 20240105 and 2024-W01-5 as 2024-01-05: such files are not its export
    for contract in landing_contracts:
        for name in ("20240105", "2024-W01-5"):
            touch_export(
                contract.file_for(tmp_path, date(2024, 1, 5)).with_name(f"{name}.{contract.format.value}")
            )
    assert requested_ranges(tick(tmp_path, None)) == []
