"""What Dagster's own bookkeeping of a two-year single-run backfill costs, on SQLite and on PostgreSQL.

`make run` spends much of its time recording one materialization per partitioned asset and day. This
isolates that cost: `--assets` trivial assets (each returns None) share a DailyPartitionsDefinition over
`--start` .. `--end` (731 days by default) with `BackfillPolicy.single_run()`, as the real graph's
partitioned assets do, and are materialized over the whole range in one run with `dg.materialize`
(in process, as `make run` does), on two instances built from the repository's own files:
orchestration/dagster.yaml (embedded SQLite, in a temporary folder) and orchestration/dagster.postgres.yaml
(a fresh database on `--server` per repeat). Each repeat gets a new, empty instance; creating it is not
timed. Prints medians of `--repeats`, seconds per asset and per 1,000 partition-materializations, and
the ratio PostgreSQL / SQLite.

    .venv/bin/python benchmarks/bench_instance_bookkeeping.py                  # assets: as many as the graph's
    .venv/bin/python benchmarks/bench_instance_bookkeeping.py --assets 13 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

REPO = Path(__file__).resolve().parents[1]
LOCAL_INSTANCE_YAML = REPO / "orchestration" / "dagster.yaml"
PRODUCTION_INSTANCE_YAML = REPO / "orchestration" / "dagster.postgres.yaml"

# A new, empty instance per call.
InstanceFactory = Callable[[], AbstractContextManager[dg.DagsterInstance]]


def graph_partitioned_asset_count() -> int:
    """How many partitioned assets the real graph has (imports the code location: CLIENTELE_CONFIG)."""
    os.environ.setdefault("CLIENTELE_CONFIG", str(REPO / "sources" / "demo" / "clientele.yml"))
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    return sum(1 for key in graph.materializable_asset_keys if graph.get(key).partitions_def is not None)


def trivial_assets(count: int, partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetsDefinition]:
    """`count` independent partitioned assets that compute nothing: only the bookkeeping is left."""

    def make(index: int) -> dg.AssetsDefinition:
        @dg.asset(
            name=f"bookkeeping_{index:02d}",
            partitions_def=partitions,
            backfill_policy=dg.BackfillPolicy.single_run(),
        )
        def _asset() -> None:
            return None

        return _asset

    return [make(i) for i in range(count)]


@contextmanager
def sqlite_instance() -> Iterator[dg.DagsterInstance]:
    """A new embedded-SQLite instance configured by orchestration/dagster.yaml, in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as home:
        shutil.copy(LOCAL_INSTANCE_YAML, Path(home) / "dagster.yaml")
        with dg.DagsterInstance.from_config(home) as instance:
            yield instance


def postgres_instance_factory(server: str) -> InstanceFactory:
    """Instances configured by orchestration/dagster.postgres.yaml, each on a fresh database of `server`."""
    parts = conninfo_to_dict(server)

    @contextmanager
    def postgres_instance() -> Iterator[dg.DagsterInstance]:
        name = f"clientele_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        os.environ.update(
            DAGSTER_PG_HOST=str(parts.get("host", "127.0.0.1")),
            DAGSTER_PG_PORT=str(parts.get("port", "5432")),
            DAGSTER_PG_USER=str(parts.get("user", "postgres")),
            DAGSTER_PG_PASSWORD=str(parts.get("password", "")),
            DAGSTER_PG_DB=name,
        )
        try:
            with tempfile.TemporaryDirectory(prefix="bench-postgres-") as home:
                shutil.copy(PRODUCTION_INSTANCE_YAML, Path(home) / "dagster.yaml")
                with dg.DagsterInstance.from_config(home) as instance:
                    yield instance
        finally:
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))

    return postgres_instance


def timed_backfill(
    new_instance: InstanceFactory,
    assets: list[dg.AssetsDefinition],
    first_day: date,
    last_day: date,
) -> tuple[float, int]:
    """Seconds to materialize every asset over [first_day, last_day] in one run on a new instance, and
    the number of partition-materializations the instance recorded (checked, not assumed)."""
    with new_instance() as instance:
        started = time.perf_counter()
        result = dg.materialize(
            assets,
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": first_day.isoformat(),
                "dagster/asset_partition_range_end": last_day.isoformat(),
            },
            # as `make run` logs: an event per partition on the console would be timed too
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
        seconds = time.perf_counter() - started
        assert result.success
        recorded = sum(len(instance.get_materialized_partitions(a.key)) for a in assets)
    return seconds, recorded


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--assets", type=int, default=None, help="partitioned assets (default: as many as the real graph has)"
    )
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1), help="first day")
    parser.add_argument(
        "--end", type=date.fromisoformat, default=date(2026, 1, 1), help="day after the last (exclusive)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    count = args.assets if args.assets is not None else graph_partitioned_asset_count()
    partitions = dg.DailyPartitionsDefinition(
        start_date=args.start.isoformat(), end_date=args.end.isoformat()
    )
    days = len(partitions.get_partition_keys())
    last_day = args.end - timedelta(days=1)
    assets = trivial_assets(count, partitions)
    expected = count * days
    print(
        f"{count} partitioned assets x {days} daily partitions ({args.start} .. {last_day}) = {expected:,} "
    )
    print(f"partition-materializations in one single-run backfill; medians of {args.repeats} repeats")

    # One untimed week first, so imports and first-call costs fall on neither backend.
    timed_backfill(sqlite_instance, assets, args.start, args.start + timedelta(days=6))

    backends: dict[str, InstanceFactory] = {
        "sqlite": sqlite_instance,
        "postgres": postgres_instance_factory(args.server),
    }
    medians: dict[str, float] = {}
    print(f"{'instance':<10} {'run s':>8} {'min s':>8} {'max s':>8} {'s/asset':>8} {'s/1k mat.':>10}")
    for name, new_instance in backends.items():
        timings = []
        for _ in range(args.repeats):
            seconds, recorded = timed_backfill(new_instance, assets, args.start, last_day)
            if recorded != expected:
                raise RuntimeError(f"{name}: {recorded} partitions recorded, expected {expected}")
            timings.append(seconds)
        medians[name] = statistics.median(timings)
        print(
            f"{name:<10} {medians[name]:>8.1f} {min(timings):>8.1f} {max(timings):>8.1f} "
            f"{medians[name] / count:>8.2f} {medians[name] / expected * 1000:>10.2f}"
        )
    print(f"ratio postgres / sqlite: {medians['postgres'] / medians['sqlite']:.2f}")


if __name__ == "__main__":
    main()
