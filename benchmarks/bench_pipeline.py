"""The whole pipeline at large customer counts, stage by stage, against a floor of the same work done bare.

Issue "A million customers on one 2-core machine": whether `make run` fits the machine is a question about
the pipeline as users run it, and whether its time goes to the work or to the machinery around it. So,
per size, the demo generator writes the landing files once (`python -m sources.demo --seed 7`; timed and
reported apart: it is not part of the pipeline), then each repeat measures, in child processes:

1. **The pipeline**: `python -m orchestration.run_all` on a fresh Dagster instance
   (orchestration/dagster.yaml) with `CLIENTELE__CALENDAR__END_DATE=2025-12-31`, so the last export day
   is left for the refresh (3.). Its total is the child's wall time, what `make pipeline` makes a user
   wait. The Dagster event log says which step ran when; the stages are groups of steps (taken from the
   definitions, not from names): raw (every raw load and `raw/layer`), warehouse (the one `dbt build`),
   quality (the Great Expectations checks), churn, clv and btyd (one model step each), publishing
   (`bi.customer_360`'s dbt build and the published copy), demo truth checks. "dagster overhead" is run
   planning (from creating the run, which records a planned materialization per asset and partition, to
   its start) plus the run's time between steps; "start-up and exit" is the rest of the child's time
   (imports, loading the code location, the closing figures). The warehouse step is split by dbt's
   run_results.json of its invocation into staging, intermediate, facts (marts/fct_*), marts (the other
   marts, KPI marts included) and tests (data and unit tests), each the wall time its nodes cover, and
   "dbt outside nodes" (parsing, start-up, Dagster's handling of dbt's events).
2. **The floor**: the same work run bare, each stage in a child process of its own that imports what it
   needs first (untimed), then times the work alone:
   - raw: DuckDB's own readers (read_csv all_varchar / read_json / read_parquet) over the same landing
     files (the calendar's days) into a fresh DuckDB file, typed and checked by the project's own SQL
     (`sources.raw_tables._check_records`), with no Python row parsing. PII is hashed in SQL as
     SHA-256 of the key and the trimmed lower-cased value (phones: digits), which stands in for the
     project's normalising and HMAC in Python; the load bookkeeping (export-day log, row accounting,
     delete of the window) is left out.
   - warehouse: the SQL dbt compiles for every staging, intermediate and marts model (`dbt compile
     --full-refresh` with the run's vars, untimed), run in dependency order in one DuckDB connection on a
     copy of the run's warehouse: views as `create or replace view`, tables and incremental models as
     `create or replace table ... as` (full builds). No tests, no contracts.
   - quality: the same `validate_frame` calls over the same frames as the checks.
   - churn, clv, btyd: the same `ml` calls on the frames the assets read, read by the assets' own
     function and SQL (orchestration/defs/ml/assets.py), scores written with the same `replace_snapshot`;
     no champion, registry, backtest or report.
   - publishing: `bi.customer_360`'s compiled SQL as a table (no tests), then every table of the
     published schemas copied into a new DuckDB file and written as Parquet; no descriptions, NOT NULL
     or atomic rename.
   The floor's total is the sum of its stages (work only: no start-up); ratio = pipeline seconds / floor
   seconds, the total's included. The floor runs on a copy taken right after the pipeline.
3. **The one-day refresh**: the `daily_refresh` job for 2025-12-31, as its schedule would run it, in a
   child process with the calendar's own end (2026-01-01), split into the same stages.

Memory is the resident set of the child and all its descendants (dbt runs as a subprocess), summed
every 0.2 s from /proc; a stage's peak is the largest sample inside its time span (shared pages count
once per process, so the sum can overstate). The whole run's peak is also never below the largest single
process `os.wait4` reports. A floor stage's memory includes what its child imported (the project's
orchestration modules bring Dagster). GB are 10^9 bytes. Several repeats report median seconds and the
largest peak.

Targets (printed with a verdict): at 1,000,000 customers the pipeline within 600 s, 3x its floor and
6 GB, the one-day refresh within 60 s; at 5,000 (the demo) the pipeline within 60 s. Develop at small
sizes: 5,000 customers take minutes; 1,000,000 needs tens of GB in --workdir.

    .venv/bin/python benchmarks/bench_pipeline.py --customers 5000
    .venv/bin/python benchmarks/bench_pipeline.py --customers 100000 1000000 --workdir /big --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "sources" / "demo" / "clientele.yml"
INSTANCE_YAML = REPO / "orchestration" / "dagster.yaml"
SEED = 7
END_DATE_ENV = "CLIENTELE__CALENDAR__END_DATE"
# The full run's calendar ends (exclusive) on the last export day, which the refresh then loads.
REFRESH_DAY = "2025-12-31"
SAMPLE_SECONDS = 0.2
GB = 1e9
DEMO_SIZE, MILLION = 5_000, 1_000_000
DATA_KEPT = ("landing", "truth")  # what the generator wrote; every other folder of data/ is the pipeline's
COMPILED = "dbt-target"  # the floor's `dbt compile` output, inside its folder

STAGES = ("raw", "warehouse", "quality", "churn", "clv", "btyd", "publishing")
DBT_PARTS = ("staging", "intermediate", "facts", "marts", "tests")
DBT_OUTSIDE_NODES = "dbt outside nodes"
DEMO_TRUTH, OTHER_STEPS = "demo truth checks", "other steps"
OVERHEAD, START_AND_EXIT, TOTAL = "dagster overhead", "start-up and exit", "total"
OVERHEAD_PARTS = ("run planning", "between steps")
ROWS = (
    *STAGES[:2],
    *(f"warehouse/{part}" for part in (*DBT_PARTS, DBT_OUTSIDE_NODES)),
    *STAGES[2:],
    DEMO_TRUTH,
    OTHER_STEPS,
    OVERHEAD,
    *(f"{OVERHEAD}/{part}" for part in OVERHEAD_PARTS),
    START_AND_EXIT,
    TOTAL,
)

# Runs the job as its schedule would: the code location's own definitions, the instance of DAGSTER_HOME.
REFRESH_SCRIPT = """
import sys
import dagster as dg
from orchestration.definitions import defs
from orchestration.defs.jobs import daily_refresh_job
with dg.DagsterInstance.get() as instance:
    result = defs.resolve_job_def(daily_refresh_job.name).execute_in_process(
        partition_key=sys.argv[1],
        instance=instance,
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
sys.exit(0 if result.success else 1)
"""

Interval = tuple[float, float]
Spans = dict[str, list[Interval]]


@dataclass(frozen=True)
class Figure:
    seconds: float
    peak_rss_gb: float | None  # None: no memory sample fell inside the span (shorter than the period)


@dataclass(frozen=True)
class Repeat:
    pipeline: dict[str, Figure]
    floor: dict[str, Figure]
    refresh: dict[str, Figure]


@dataclass(frozen=True)
class Target:
    what: str
    limit: float
    value: float | None
    unit: str

    @property
    def met(self) -> bool:
        return self.value is not None and self.value <= self.limit


@dataclass(frozen=True)
class SizeResult:
    customers: int
    repeats: int
    load_average: str  # /proc/loadavg before the size: other work on the machine skews every figure
    generation: Figure
    pipeline: dict[str, Figure]
    floor: dict[str, Figure]
    refresh: dict[str, Figure]

    def ratio(self, row: str) -> float | None:
        pipeline, floor = self.pipeline.get(row), self.floor.get(row)
        if pipeline is None or floor is None or floor.seconds <= 0:
            return None
        return pipeline.seconds / floor.seconds

    def targets(self) -> list[Target]:
        total = self.pipeline[TOTAL]
        if self.customers == DEMO_SIZE:
            return [Target("demo pipeline", 60, total.seconds, "s")]
        if self.customers != MILLION:
            return []
        return [
            Target("whole pipeline", 600, total.seconds, "s"),
            Target("whole pipeline / floor", 3, self.ratio(TOTAL), "x"),
            Target("peak RSS of the pipeline", 6, total.peak_rss_gb, "GB"),
            Target("one-day refresh", 60, self.refresh[TOTAL].seconds, "s"),
        ]


# -- memory of a process tree, from /proc ------------------------------------------------------------


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except OSError:  # gone since the listing
            continue
        # the command name (field 2) may hold spaces and parentheses: the fields after it start at its ')'
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children[parent].append(int(name))
    return children


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0  # gone, or a zombie (no VmRSS line)


def tree_rss_bytes(root: int) -> int:
    """Resident set of `root` and every descendant it has now."""
    children = _children_by_parent()
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        total += _rss_bytes(pid)
        pending.extend(children.get(pid, ()))
    return total


class TreeSampler(threading.Thread):
    """Samples `tree_rss_bytes(root)` with its time until stopped; the child's wait runs meanwhile."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.samples: list[tuple[float, int]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append((time.time(), tree_rss_bytes(self.root)))
            self._stop_event.wait(SAMPLE_SECONDS)

    def stop(self) -> list[tuple[float, int]]:
        self._stop_event.set()
        self.join()
        return self.samples


@dataclass(frozen=True)
class ChildRun:
    """One child process: when it ran (epoch seconds, the clock of Dagster's and dbt's timestamps), its
    tree's memory samples, and the largest single process `os.wait4` saw."""

    started: float
    ended: float
    samples: tuple[tuple[float, int], ...]
    max_single_process_bytes: int

    def peak_gb(self, intervals: Iterable[Interval]) -> float | None:
        """The largest sample inside `intervals`, each widened by half a period: a sample stands for the
        time around it, so a span shorter than the period still finds the sample nearest to it."""
        half = SAMPLE_SECONDS / 2
        spans = union(intervals)
        inside = [rss for at, rss in self.samples if any(s - half <= at <= e + half for s, e in spans)]
        return max(inside) / GB if inside else None

    def figure(self, intervals: Iterable[Interval]) -> Figure:
        spans = union(intervals)
        return Figure(sum(e - s for s, e in spans), self.peak_gb(spans))

    def total(self) -> Figure:
        sampled = max((rss for _, rss in self.samples), default=0)
        return Figure(self.ended - self.started, max(sampled, self.max_single_process_bytes) / GB)


def run_child(command: list[str], env: Mapping[str, str], log: Path) -> ChildRun:
    """Run `command` from the repository with its output in `log`, sampling its tree's memory."""
    with log.open("w") as output:
        started = time.time()
        child = subprocess.Popen(command, cwd=REPO, env=dict(env), stdout=output, stderr=subprocess.STDOUT)
        sampler = TreeSampler(child.pid)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        ended = time.time()
        samples = sampler.stop()
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} ... failed with exit code {child.returncode}; see {log}")
    return ChildRun(started, ended, tuple(samples), usage.ru_maxrss * 1024)  # Linux: kilobytes


# -- intervals ---------------------------------------------------------------------------------------


def union(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def outside(spans: Iterable[Interval], inner: Iterable[Interval]) -> list[Interval]:
    """The parts of `spans` that no interval of `inner` covers."""
    inner_merged = union(inner)
    left: list[Interval] = []
    for start, end in union(spans):
        cursor = start
        for inner_start, inner_end in inner_merged:
            if inner_end <= cursor or inner_start >= end:
                continue
            if inner_start > cursor:
                left.append((cursor, inner_start))
            cursor = max(cursor, inner_end)
        if cursor < end:
            left.append((cursor, end))
    return left


# -- the pipeline's stages, from the event log and dbt's run results ----------------------------------


def stage_of_step() -> dict[str, str]:
    """Step key -> stage, from the code location's own definitions (a renamed asset moves with them)."""
    from orchestration.definitions import ALL_CHECKS
    from orchestration.defs.ingestion.assets import raw_assets, raw_layer
    from orchestration.defs.ml.assets import customer_btyd, customer_churn_scores, customer_clv
    from orchestration.defs.quality.checks import expectations_checks
    from orchestration.defs.serving.assets import bi_warehouse, serving_customer_360
    from orchestration.defs.warehouse.assets import warehouse_models

    stages = {asset.op.name: "raw" for asset in [*raw_assets, raw_layer]}
    stages[warehouse_models.op.name] = "warehouse"
    stages.update({check.op.name: "quality" for check in expectations_checks})
    stages.update({customer_churn_scores.op.name: "churn", customer_clv.op.name: "clv"})
    stages[customer_btyd.op.name] = "btyd"
    stages.update({serving_customer_360.op.name: "publishing", bi_warehouse.op.name: "publishing"})
    # the only other checks are the demo's truth checks (orchestration/definitions.py)
    stages.update({check.op.name: DEMO_TRUTH for check in ALL_CHECKS if check.op.name not in stages})
    return stages


def step_intervals(instance: dg.DagsterInstance, run_id: str) -> Spans:
    """Each step's intervals from STEP_START to STEP_SUCCESS or STEP_FAILURE."""
    kinds = {
        dg.DagsterEventType.STEP_START,
        dg.DagsterEventType.STEP_SUCCESS,
        dg.DagsterEventType.STEP_FAILURE,
    }
    started: dict[str, float] = {}
    steps: Spans = defaultdict(list)
    for record in instance.get_records_for_run(run_id, of_type=kinds).records:
        entry = record.event_log_entry
        key = entry.step_key
        if key is None:
            continue
        if entry.dagster_event_type == dg.DagsterEventType.STEP_START:
            started[key] = entry.timestamp
        elif key in started:
            steps[key].append((started.pop(key), entry.timestamp))
    return steps


def dbt_layer(unique_id: str, nodes: Mapping[str, Any]) -> str:
    """staging, intermediate, facts, marts (KPI marts too), bi or tests: a node's layer by its folder."""
    if unique_id.split(".")[0] in ("test", "unit_test"):
        return "tests"
    node = nodes[unique_id]
    folder = node["fqn"][1] if len(node["fqn"]) > 2 else ""
    return "facts" if folder == "marts" and node["name"].startswith("fct_") else folder


def dbt_node_intervals(run_id: str) -> Spans:
    """Intervals of the warehouse build's nodes by layer, from the run_results.json of its invocation.

    dagster-dbt gives each invocation its own target folder, `<op>-<run id[:7]>-<random>`, under the
    project's target path.
    """
    from orchestration.defs.warehouse.assets import warehouse_models
    from orchestration.lib.dbt import dbt_project

    target = Path(dbt_project.project_dir) / dbt_project.target_path
    folders = sorted(
        target.glob(f"{warehouse_models.op.name}-{run_id[:7]}-*"), key=lambda path: path.stat().st_mtime
    )
    if not folders or not (folders[-1] / "run_results.json").is_file():
        return {}
    results = json.loads((folders[-1] / "run_results.json").read_text())["results"]
    nodes = json.loads((folders[-1] / "manifest.json").read_text())["nodes"]
    layers: Spans = defaultdict(list)
    for result in results:
        timing = [
            (
                datetime.fromisoformat(t["started_at"]).timestamp(),
                datetime.fromisoformat(t["completed_at"]).timestamp(),
            )
            for t in result["timing"]
            if t.get("started_at") and t.get("completed_at")
        ]
        if timing:
            layers[dbt_layer(result["unique_id"], nodes)].append(
                (min(s for s, _ in timing), max(e for _, e in timing))
            )
    return layers


def run_figures(home: Path, child: ChildRun, stages: Mapping[str, str]) -> dict[str, Figure]:
    """The stages of the run the child made, its only or newest on the instance in `home`."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run_id = instance.get_runs(limit=1)[0].run_id
        record = instance.get_run_record_by_id(run_id)
        steps = step_intervals(instance, run_id)
    if record is None or record.start_time is None or record.end_time is None:
        raise RuntimeError(f"run {run_id} in {home} has no start or end time")
    by_stage: Spans = defaultdict(list)
    for step, intervals in steps.items():
        by_stage[stages.get(step, OTHER_STEPS)].extend(intervals)
    figures = {stage: child.figure(intervals) for stage, intervals in by_stage.items()}
    nodes = dbt_node_intervals(run_id)
    for part in DBT_PARTS:
        if part in nodes:
            figures[f"warehouse/{part}"] = child.figure(nodes[part])
    if nodes:
        all_nodes = [interval for intervals in nodes.values() for interval in intervals]
        figures[f"warehouse/{DBT_OUTSIDE_NODES}"] = child.figure(outside(by_stage["warehouse"], all_nodes))
    # Creating a run records a planned materialization per asset and partition before the run starts.
    created = record.create_timestamp.timestamp()
    planning = [(created, record.start_time)]
    between = outside([(record.start_time, record.end_time)], [i for v in steps.values() for i in v])
    figures[OVERHEAD] = child.figure([*planning, *between])
    figures[f"{OVERHEAD}/run planning"] = child.figure(planning)
    figures[f"{OVERHEAD}/between steps"] = child.figure(between)
    figures[START_AND_EXIT] = child.figure(
        outside([(child.started, child.ended)], [(created, record.end_time)])
    )
    figures[TOTAL] = child.total()
    return figures


# -- the floor ---------------------------------------------------------------------------------------


def _landing_reader(contract: Any, files: list[Path], pii_key: bytes) -> str:
    """SQL: every landing row of `files` as text (the columns `_check_records` reads), the PII hashed in
    SQL, the export day and file of each row."""
    from sources.contracts import FileFormat
    from sources.raw_tables import hash_column

    paths = "[" + ", ".join(f"'{path}'" for path in files) + "]"
    if contract.format is FileFormat.CSV:
        quote = contract.quote_char.replace("'", "''")
        reader = (
            f"read_csv({paths}, all_varchar = true, header = true, delim = '{contract.delimiter}', "
            f"quote = '{quote}', filename = true, store_rejects = true, "
            f"rejects_table = 'rejects_{contract.raw_table}', rejects_scan = 'rejects_scan_{contract.raw_table}')"
        )
    elif contract.format is FileFormat.JSONL:
        columns = ", ".join(f"'{name}': 'VARCHAR'" for name in contract.column_names)
        reader = (
            f"read_json({paths}, format = 'newline_delimited', columns = {{{columns}}}, "
            "ignore_errors = true, filename = true)"
        )
    else:
        reader = f"read_parquet({paths}, union_by_name = true, filename = true)"
    key = pii_key.decode().replace("'", "''")
    hashes = "".join(
        f", sha256('{key}' || "
        + (f"regexp_replace({c.name}, '[^0-9+]', '', 'g')" if "phone" in c.name else f"lower(trim({c.name}))")
        + f") as {hash_column(c.name)}"
        for c in contract.columns
        if c.pii
    )
    text = ", ".join(f"cast({name} as varchar) as {name}" for name in contract.column_names)
    return (
        f"select {text}{hashes}, "
        "cast(regexp_extract(filename, '([0-9]{4}-[0-9]{2}-[0-9]{2})[.][a-z]+$', 1) as date) as _export_date, "
        f"filename as _source_file from {reader}"
    )


def floor_raw(floor_dir: Path) -> Spans:
    from orchestration.lib.deployment import DEPLOYMENT
    from sources.pii import pii_key
    from sources.raw_tables import RAW_SCHEMA, _check_records, _typed_columns, raw_table_name

    calendar = DEPLOYMENT.calendar
    last = calendar.end_date or date.today()
    days = [calendar.start_date + timedelta(days=i) for i in range((last - calendar.start_date).days)]
    database = floor_dir / "raw_floor.duckdb"
    database.unlink(missing_ok=True)  # a fresh file, as a first load starts from
    started = time.time()
    con = duckdb.connect(str(database))
    con.execute(f"create schema {RAW_SCHEMA}")
    con.execute(
        f"create table {RAW_SCHEMA}.quarantine (source VARCHAR, export_date DATE, source_file VARCHAR, reason VARCHAR)"
    )
    for contract in DEPLOYMENT.enabled_contracts:
        files = [
            path for day in days if (path := contract.file_for(DEPLOYMENT.paths.landing_dir, day)).is_file()
        ]
        if not files:
            continue
        reader = _landing_reader(contract, files, pii_key())
        con.execute(f"create or replace temp view incoming_records as {reader}")
        _check_records(con, contract, calendar.timezone)
        con.execute(
            f"create table {raw_table_name(contract)} as select {', '.join(_typed_columns(contract))}, "
            "_export_date, _source_file from checked_records where _reason = ''"
        )
        con.execute(
            f"insert into {RAW_SCHEMA}.quarantine select '{contract.raw_table}', _export_date, _source_file, "
            "_reason from checked_records where _reason <> ''"
        )
        if contract.format.value == "csv":  # lines DuckDB's reader rejected are quarantined too
            con.execute(
                f"insert into {RAW_SCHEMA}.quarantine select '{contract.raw_table}', null, file_path, "
                f"error_message from rejects_{contract.raw_table} join rejects_scan_{contract.raw_table} "
                "using (scan_id)"
            )
    con.close()
    return {"raw": [(started, time.time())]}


def _compiled_models(floor_dir: Path) -> list[dict[str, Any]]:
    """The compiled models in dependency order."""
    nodes = json.loads((floor_dir / COMPILED / "manifest.json").read_text())["nodes"]
    models = {uid: node for uid, node in nodes.items() if node["resource_type"] == "model"}
    graph = {uid: [d for d in node["depends_on"]["nodes"] if d in models] for uid, node in models.items()}
    return [
        {**models[uid], "layer": dbt_layer(uid, nodes)} for uid in TopologicalSorter(graph).static_order()
    ]


def _build_models(con: duckdb.DuckDBPyConnection, models: list[dict[str, Any]]) -> Spans:
    spans: Spans = defaultdict(list)
    for model in models:
        kind = "view" if model["config"]["materialized"] == "view" else "table"
        started = time.time()
        con.execute(f"create or replace {kind} {model['relation_name']} as {model['compiled_code']}")
        spans[model["layer"]].append((started, time.time()))
    return spans


def floor_warehouse(floor_dir: Path) -> Spans:
    from orchestration.lib.deployment import DEPLOYMENT

    models = [m for m in _compiled_models(floor_dir) if m["layer"] in DBT_PARTS]
    with duckdb.connect(str(DEPLOYMENT.paths.warehouse_path)) as con:
        layers = _build_models(con, models)
    spans = {f"warehouse/{layer}": intervals for layer, intervals in layers.items()}
    return {"warehouse": [i for intervals in layers.values() for i in intervals], **spans}


def _warehouse_and_scoring_date() -> tuple[Any, date]:
    from orchestration.lib.deployment import DEPLOYMENT
    from orchestration.lib.scoring import ScoringResource
    from orchestration.lib.warehouse import WarehouseResource

    warehouse = WarehouseResource(path=str(DEPLOYMENT.paths.warehouse_path))
    return warehouse, ScoringResource().resolve(warehouse)


def floor_quality(floor_dir: Path) -> Spans:
    from expectations.runner import validate_frame
    from orchestration.defs.quality.checks import GATED_TABLES, SUITES

    warehouse, scoring_date = _warehouse_and_scoring_date()
    started = time.time()
    for table, per_scoring_date in GATED_TABLES.values():
        if per_scoring_date:
            rows = warehouse.read_frame(f"select * from {table} where scoring_date = ?", [scoring_date])
        else:
            rows = warehouse.read_frame(f"select * from {table}")
        validate_frame(rows, SUITES[table.split(".")[-1]])
    return {"quality": [(started, time.time())]}


def _floor_model(task: str) -> Spans:
    import pandas as pd

    from ml.pipeline import fit_and_score_churn, fit_and_score_clv
    from orchestration.defs.ml.assets import CHURN_CONFIG, CLV_CONFIG, ORDERS_SQL, read_features

    warehouse, scoring_date = _warehouse_and_scoring_date()
    started = time.time()
    config = CHURN_CONFIG if task == "churn" else CLV_CONFIG
    features = read_features(warehouse, scoring_date, config)
    orders = warehouse.read_frame(ORDERS_SQL, [scoring_date])
    at = pd.Timestamp(scoring_date)
    if task == "churn":
        scores = fit_and_score_churn(features, orders, at, CHURN_CONFIG).scores
        warehouse.replace_snapshot("ml.customer_churn_scores", scores, "scoring_date")
    else:
        scores = fit_and_score_clv(features, orders, at, CLV_CONFIG).scores
        warehouse.replace_snapshot("ml.customer_clv", scores, "scoring_date")
    return {task: [(started, time.time())]}


def floor_btyd(floor_dir: Path) -> Spans:
    import pandas as pd

    from ml.btyd import btyd_features, fit_btyd
    from ml.score import scoring_snapshot
    from orchestration.defs.ml.assets import CLV_CONFIG, SCORING_FEATURES_SQL

    warehouse, scoring_date = _warehouse_and_scoring_date()
    started = time.time()
    features = warehouse.read_frame(SCORING_FEATURES_SQL, [scoring_date])
    at_scoring = scoring_snapshot(features, pd.Timestamp(scoring_date))
    predictions = btyd_features(fit_btyd(at_scoring), at_scoring, CLV_CONFIG.train.horizon_days)
    # a schema of its own: ml.customer_btyd keeps the run's columns, which customer_360 reads
    warehouse.replace_snapshot("floor.customer_btyd", predictions, "snapshot_date")
    return {"btyd": [(started, time.time())]}


def floor_publishing(floor_dir: Path) -> Spans:
    from orchestration.defs.serving.assets import PUBLISHED_SCHEMAS
    from orchestration.lib.deployment import DEPLOYMENT

    models = [m for m in _compiled_models(floor_dir) if m["layer"] == "bi"]
    exports = floor_dir / "exports"
    exports.mkdir(exist_ok=True)
    started = time.time()
    with duckdb.connect(str(DEPLOYMENT.paths.warehouse_path)) as con:
        _build_models(con, models)
        con.execute(f"attach '{floor_dir / 'serving.duckdb'}' as serving")
        schemas = ", ".join(f"'{s}'" for s in PUBLISHED_SCHEMAS)
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = "
            f"current_database() and table_schema in ({schemas}) and table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, table in tables:
            con.execute(f"create schema if not exists serving.{schema}")
            con.execute(f"create table serving.{schema}.{table} as select * from {schema}.{table}")
            con.execute(
                f"copy {schema}.{table} to '{exports / f'{schema}__{table}.parquet'}' (format parquet)"
            )
    return {"publishing": [(started, time.time())]}


FLOOR_STAGES: dict[str, Callable[[Path], Spans]] = {
    "raw": floor_raw,
    "warehouse": floor_warehouse,
    "quality": floor_quality,
    "churn": lambda _: _floor_model("churn"),
    "clv": lambda _: _floor_model("clv"),
    "btyd": floor_btyd,
    "publishing": floor_publishing,
}


def compile_models(floor_dir: Path, env: Mapping[str, str]) -> None:
    """`dbt compile --full-refresh` of every model with the run's vars, against the floor's warehouse."""
    from orchestration.lib.dbt import dbt_cli_resource, dbt_project

    command_vars = subprocess.run(
        [sys.executable, "-m", "orchestration.dbt_vars"],
        cwd=REPO,
        env=dict(env),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with (floor_dir / "dbt-compile.log").open("w") as log:
        subprocess.run(
            [
                dbt_cli_resource().dbt_executable,
                "compile",
                "--profiles-dir",
                ".",
                "--project-dir",
                ".",
                "--vars",
                command_vars,
                "--full-refresh",
                "--select",
                "resource_type:model",
                # not the project's target: the manifest there is the one Dagster loads
                "--target-path",
                str(floor_dir / COMPILED),
                "--log-path",
                str(floor_dir / "dbt-logs"),
            ],
            cwd=dbt_project.project_dir,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )


def floor_figures(floor_dir: Path, env: Mapping[str, str]) -> dict[str, Figure]:
    """Each floor stage in a child process of its own (this file, `--floor-stage`), on the floor's copy."""
    compile_models(floor_dir, env)
    figures: dict[str, Figure] = {}
    for stage in FLOOR_STAGES:
        command = [sys.executable, str(Path(__file__).resolve()), "--floor-stage", stage, "--floor-dir"]
        child = run_child([*command, str(floor_dir)], env, floor_dir / f"{stage}.log")
        spans = json.loads((floor_dir / f"{stage}.spans.json").read_text())
        for name, intervals in spans.items():
            figures[name] = child.figure((start, end) for start, end in intervals)
    top = [figures[stage] for stage in STAGES if stage in figures]
    figures[TOTAL] = Figure(
        sum(f.seconds for f in top), max((f.peak_rss_gb or 0.0 for f in top), default=0.0)
    )
    return figures


def run_floor_stage(stage: str, floor_dir: Path) -> None:
    spans = FLOOR_STAGES[stage](floor_dir)
    (floor_dir / f"{stage}.spans.json").write_text(json.dumps(spans))


# -- one size ----------------------------------------------------------------------------------------


def child_env(data: Path, home: Path, end_date: str | None, warehouse: Path | None = None) -> dict[str, str]:
    """The demo deployment on `data`, and nothing of this shell's own configuration (a shop database URL
    would take sales from PostgreSQL)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CLIENTELE") and k not in ("DAGSTER_HOME", "DBT_TARGET_PATH")
    }
    env.update(CLIENTELE_CONFIG=str(DEMO_CONFIG), CLIENTELE_DATA_DIR=str(data), DAGSTER_HOME=str(home))
    if end_date is not None:
        env[END_DATE_ENV] = end_date
    if warehouse is not None:
        env["CLIENTELE_WAREHOUSE_PATH"] = str(warehouse)
    return env


def warehouse_path(env: Mapping[str, str]) -> Path:
    from sources.config import load_config

    return load_config(environ=env).paths.warehouse_path


def measure_repeat(root: Path, data: Path, index: int, stages: Mapping[str, str], keep: bool) -> Repeat:
    for path in data.iterdir():
        if path.name in DATA_KEPT:
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    home = root / f"dagster-{index}"
    home.mkdir()
    shutil.copy(INSTANCE_YAML, home / "dagster.yaml")

    full_env = child_env(data, home, REFRESH_DAY)
    print(f"    repeat {index + 1}: pipeline", flush=True)
    child = run_child(
        [sys.executable, "-m", "orchestration.run_all"], full_env, root / f"pipeline-{index}.log"
    )
    pipeline = run_figures(home, child, stages)

    # The floor works on a copy of the warehouse as the full run left it, before the refresh changes it.
    floor_dir = root / f"floor-{index}"
    floor_dir.mkdir()
    live = warehouse_path(full_env)
    floor_warehouse_file = floor_dir / live.name  # same name: dbt names the database after the file
    shutil.copy(live, floor_warehouse_file)

    print(f"    repeat {index + 1}: one-day refresh of {REFRESH_DAY}", flush=True)
    command = [sys.executable, "-c", REFRESH_SCRIPT, REFRESH_DAY]
    child = run_child(command, child_env(data, home, None), root / f"refresh-{index}.log")
    refresh = run_figures(home, child, stages)

    print(f"    repeat {index + 1}: floor", flush=True)
    floor = floor_figures(floor_dir, child_env(data, home, REFRESH_DAY, floor_warehouse_file))
    if not keep:
        shutil.rmtree(floor_dir)
    return Repeat(pipeline, floor, refresh)


def combined(figures: list[dict[str, Figure]]) -> dict[str, Figure]:
    """Median seconds and largest peak of each row over the repeats."""
    rows = dict.fromkeys(row for repeat in figures for row in repeat)
    result = {}
    for row in rows:
        present = [repeat[row] for repeat in figures if row in repeat]
        peaks = [f.peak_rss_gb for f in present if f.peak_rss_gb is not None]
        result[row] = Figure(statistics.median(f.seconds for f in present), max(peaks) if peaks else None)
    return result


def measure_size(customers: int, repeats: int, workdir: Path, keep: bool) -> SizeResult:
    stages = stage_of_step()
    load_average = Path("/proc/loadavg").read_text().strip()
    root = Path(tempfile.mkdtemp(prefix=f"bench-pipeline-{customers}-", dir=workdir))
    print(f"==> {customers:,} customers in {root} (load average {load_average})", flush=True)
    data = root / "data"
    command = [sys.executable, "-m", "sources.demo", "--customers", str(customers), "--seed", str(SEED)]
    print("    generating the demo data", flush=True)
    try:
        generation = run_child(
            [*command, "--out", str(data)], child_env(data, root, None), root / "generate.log"
        )
        runs = [measure_repeat(root, data, index, stages, keep) for index in range(repeats)]
    except BaseException:
        print(f"    stopped; {root} is kept with its logs", flush=True)
        raise
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return SizeResult(
        customers=customers,
        repeats=repeats,
        load_average=load_average,
        generation=generation.total(),
        pipeline=combined([r.pipeline for r in runs]),
        floor=combined([r.floor for r in runs]),
        refresh=combined([r.refresh for r in runs]),
    )


# -- report ------------------------------------------------------------------------------------------


def _cell(value: float | None, width: int, digits: int = 1) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width},.{digits}f}"


def _label(row: str) -> str:
    return f"  {row.split('/', 1)[1]}" if "/" in row else row


def print_size(result: SizeResult) -> None:
    print(
        f"\n== {result.customers:,} customers, {result.repeats} repeat(s): median seconds, largest peak RSS "
        f"(GB = 10^9 bytes); load average before: {result.load_average}"
    )
    g = result.generation
    print(
        f"demo data generation (not part of the pipeline): {g.seconds:,.1f} s, peak RSS {g.peak_rss_gb:.2f} GB"
    )
    print(f"{'stage':<28} {'pipeline s':>10} {'peak GB':>8} {'floor s':>9} {'floor GB':>9} {'ratio':>7}")
    for row in ROWS:
        pipeline, floor = result.pipeline.get(row), result.floor.get(row)
        if pipeline is None and floor is None:
            continue
        print(
            f"{_label(row):<28} {_cell(pipeline.seconds if pipeline else None, 10)} "
            f"{_cell(pipeline.peak_rss_gb if pipeline else None, 8, 2)} "
            f"{_cell(floor.seconds if floor else None, 9)} {_cell(floor.peak_rss_gb if floor else None, 9, 2)} "
            f"{_cell(result.ratio(row), 7)}"
        )
    print(f"\none-day refresh of {REFRESH_DAY} (daily_refresh, as the schedule runs it)")
    print(f"{'stage':<28} {'s':>10} {'peak GB':>8}")
    for row in ROWS:
        if row in result.refresh:
            refresh = result.refresh[row]
            print(f"{_label(row):<28} {_cell(refresh.seconds, 10)} {_cell(refresh.peak_rss_gb, 8, 2)}")
    targets = result.targets()
    if not targets:
        print(f"\ntargets: none at {result.customers:,} (set at {DEMO_SIZE:,} and {MILLION:,} customers)")
    else:
        print("\ntargets:")
    for target in targets:
        value = "-" if target.value is None else f"{target.value:,.1f}"
        verdict = "met" if target.met else "NOT MET"
        print(f"  {target.what:<26} <= {target.limit:g} {target.unit}: {value} {target.unit}  {verdict}")


def to_json(results: list[SizeResult]) -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().split()
    return {
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "memory_gb": round(int(meminfo[meminfo.index("MemTotal:") + 1]) * 1024 / GB, 1),
        "sizes": [
            {
                **asdict(result),
                "ratios": {row: result.ratio(row) for row in ROWS if result.ratio(row) is not None},
                "targets": [{**asdict(t), "met": t.met} for t in result.targets()],
            }
            for result in results
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000], help="sizes to measure")
    parser.add_argument("--repeats", type=int, default=1, help="pipeline runs per size (data generated once)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp"), help="where the temporary folders go")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders (data, logs)")
    parser.add_argument("--floor-stage", choices=sorted(FLOOR_STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--floor-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.floor_stage:
        run_floor_stage(args.floor_stage, args.floor_dir)
        return
    # The stages are read from the demo's code location, the one every child runs.
    os.environ["CLIENTELE_CONFIG"] = str(DEMO_CONFIG)
    results = []
    for customers in args.customers:
        results.append(measure_size(customers, args.repeats, args.workdir, args.keep))
        print_size(results[-1])
        if args.json:  # after every size, so a long series leaves what it measured
            args.json.write_text(json.dumps(to_json(results), indent=2) + "\n")


if __name__ == "__main__":
    main()
