"""`make run`: materialize the whole asset graph over the whole calendar as one run in the local instance.

The run is recorded in $DAGSTER_HOME, so `make ui` shows it. Partitioned assets take the full range in a
single pass (their backfill policy is single-run); unpartitioned ones run once after them.
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta

import dagster as dg

from orchestration.definitions import ALL_ASSETS, ALL_CHECKS, defs
from orchestration.defs.partitions import partition_range_tags
from orchestration.lib.deployment import DEPLOYMENT
from orchestration.lib.publish import headline_figures


def main() -> int:
    calendar, paths = DEPLOYMENT.calendar, DEPLOYMENT.paths
    last_day = (calendar.end_date or date.today()) - timedelta(days=1)
    print(f"==> materializing every asset for export days {calendar.start_date} .. {last_day}", flush=True)
    started = time.monotonic()
    result = dg.materialize(
        [*ALL_ASSETS, *ALL_CHECKS],
        instance=dg.DagsterInstance.get(),
        resources=defs.resources,
        tags=partition_range_tags(calendar.start_date, last_day),
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        raise_on_error=False,
    )
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
