"""`make run`: materialize the whole asset graph over the whole calendar as one run in the local instance.

The run is recorded in $DAGSTER_HOME, so `make ui` shows it. Partitioned assets take the full range in a
single pass (their backfill policy is single-run); unpartitioned ones run once after them.

Before it starts, runs of an earlier `run_all` whose process was killed are marked failed and their pool
slots freed, and a live run holding the warehouse pool is waited for, out loud (`orchestration/lib/runs.py`).
SIGTERM or Ctrl-C stop the wait, or the run, with a non-zero exit.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date, timedelta

import dagster as dg

from orchestration.definitions import ALL_ASSETS, ALL_CHECKS, defs
from orchestration.defs.partitions import partition_range_tags
from orchestration.lib.deployment import DEPLOYMENT
from orchestration.lib.publish import headline_figures
from orchestration.lib.runs import (
    Stopped,
    release_dead_runs,
    stop_on_signals,
    this_process_tags,
    wait_for_pool,
)
from orchestration.lib.warehouse import WAREHOUSE_POOL


def report(line: str) -> None:
    print(line, flush=True)


# Dagster plans a run over a range of days with one event per asset and day unless told to plan the
# range as one: on the SQLite instance of `make run` the 5,900 events of a two-year calendar took over two
# minutes before the first step (benchmarks/bench_pipeline.py). What the per-day events add is marking
# each day failed when the run fails; `make run` reports a failed run itself, and its next run replaces
# the whole window anyway.
PLAN_RANGES_AS_ONE = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"


def materialize_everything(
    instance: dg.DagsterInstance, first_day: date, last_day: date
) -> dg.ExecuteInProcessResult:
    """One run of every asset and check over [first_day, last_day], tagged with this process (`lib/runs.py`)."""
    os.environ.setdefault(PLAN_RANGES_AS_ONE, "true")
    return dg.materialize(
        [*ALL_ASSETS, *ALL_CHECKS],
        instance=instance,
        resources=defs.resources,
        tags={**partition_range_tags(first_day, last_day), **this_process_tags()},
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        raise_on_error=False,
    )


def main() -> int:
    calendar, paths = DEPLOYMENT.calendar, DEPLOYMENT.paths
    last_day = (calendar.end_date or date.today()) - timedelta(days=1)
    print(f"==> materializing every asset for export days {calendar.start_date} .. {last_day}", flush=True)
    with dg.DagsterInstance.get() as instance, stop_on_signals():
        try:
            release_dead_runs(instance, report)
            wait_for_pool(instance, WAREHOUSE_POOL, report)
        except Stopped as stop:
            report(f"==> {stop} while waiting; nothing was started")
            return stop.exit_code
        started = time.monotonic()
        try:
            result = materialize_everything(instance, calendar.start_date, last_day)
        except Stopped as stop:  # in the moments before Dagster takes the signals over, or after
            report(f"==> {stop}; a run left unfinished is marked failed by the next run_all")
            return stop.exit_code
    elapsed = time.monotonic() - started
    if not result.success:
        print(f"==> run {result.run_id} FAILED after {elapsed:.0f}s; see the logs above or `make ui`")
        return 1
    print(f"==> run {result.run_id} succeeded in {elapsed:.0f}s")
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:  # non-blocking checks: the run went on, but someone should know
            details = "; ".join(f"{k}: {v.value}" for k, v in evaluation.metadata.items())
            print(f"    check {evaluation.asset_check_key.to_user_string()} did not pass: {details}")
    print(f"    live warehouse : {paths.warehouse_path}")
    print(f"    BI copy        : {paths.serving_path}")
    print(f"    Parquet exports: {paths.exports_dir}")
    for name, value in headline_figures(paths.serving_path).items():
        print(f"    {name:<38} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
