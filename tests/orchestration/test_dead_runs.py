"""A run whose process is killed no longer holds the warehouse pool for ever, and run_all waits out loud.

Dagster records neither the host nor the process of an in-process run, so a SIGKILLed `run_all` left its
run STARTED with the one slot of `duckdb_warehouse`; the next `run_all` then waited for that slot in
Dagster's executor loop: silent, at 100% of a core, deaf to SIGTERM. The unit tests drive
`orchestration/lib/runs.py` against a temporary instance configured by the repository's dagster.yaml;
the last two run `python -m orchestration.run_all` as `make pipeline` does, in a subprocess.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest

from orchestration.lib import runs
from orchestration.lib.runs import (
    RUN_HOST_TAG,
    RUN_PID_TAG,
    RUN_PROCESS_START_TAG,
    pool_holders,
    process_tags,
    release_dead_runs,
    slot_claims,
    wait_for_pool,
)
from orchestration.lib.warehouse import WAREHOUSE_POOL
from sources.config import REPO_ROOT
from sources.demo.config import DEMO_CONFIG_PATH

INSTANCE_YAML = REPO_ROOT / "orchestration" / "dagster.yaml"
HOST = socket.gethostname()
STEP = "warehouse"


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    shutil.copy(INSTANCE_YAML, tmp_path)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        yield instance


@dg.op
def warehouse_step() -> None:
    pass


@dg.job
def holder_job() -> None:
    warehouse_step()


def started_run(instance: dg.DagsterInstance, tags: dict[str, str], holds_slot: bool = True) -> str:
    """A STARTED run with `tags`, holding the warehouse pool's slot as a step of it would."""
    run = instance.create_run_for_job(holder_job, status=dg.DagsterRunStatus.STARTED, tags=tags)
    if holds_slot:
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
        assert storage.claim_concurrency_slot(WAREHOUSE_POOL, run.run_id, STEP).is_claimed
    return run.run_id


@contextmanager
def child_process() -> Iterator[subprocess.Popen[bytes]]:
    """A live child process, gone (and reaped) after the block."""
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        yield child
    finally:
        child.kill()
        child.wait()


def dead_process_tags() -> dict[str, str]:
    with child_process() as child:
        tags = process_tags(child.pid)
    return tags


def status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    return run.status


def test_a_run_whose_process_is_gone_is_failed_and_its_slot_freed(instance: dg.DagsterInstance) -> None:
    tags = dead_process_tags()
    dead = started_run(instance, tags)
    lines: list[str] = []
    assert release_dead_runs(instance, lines.append) == [dead]
    assert status(instance, dead) == dg.DagsterRunStatus.FAILURE
    [failure] = instance.all_logs(dead, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert f"pid {tags[RUN_PID_TAG]} on {HOST}) no longer exists" in failure.message
    assert slot_claims(instance) == []
    assert lines == [
        f"==> run {dead} (STARTED, pid {tags[RUN_PID_TAG]} gone) marked failed; "
        f"freed its slot of {WAREHOUSE_POOL} (step {STEP})"
    ]
    assert release_dead_runs(instance, lines.append) == []  # a second look finds nothing left to do


def test_runs_whose_process_may_be_alive_are_never_touched(instance: dg.DagsterInstance) -> None:
    live = started_run(instance, process_tags(os.getpid()))
    # A pid on another host cannot be checked from here; a run launched from the UI carries no pid.
    elsewhere = started_run(instance, {**dead_process_tags(), RUN_HOST_TAG: "another-host"}, holds_slot=False)
    from_the_ui = started_run(instance, {}, holds_slot=False)
    assert release_dead_runs(instance, print) == []
    for run_id in (live, elsewhere, from_the_ui):
        assert status(instance, run_id) == dg.DagsterRunStatus.STARTED
    [holder] = pool_holders(instance, WAREHOUSE_POOL)
    assert holder.claim.run_id == live
    assert holder.describe().startswith(f"run {live} (step {STEP}, pid {os.getpid()} on {HOST}, since ")


def test_a_reused_pid_does_not_pass_for_the_runs_process(instance: dg.DagsterInstance) -> None:
    # After a reboot the dead run's pid may belong to another process: this one, started later than it.
    reused = started_run(instance, {**process_tags(os.getpid()), RUN_PROCESS_START_TAG: "1"})
    assert release_dead_runs(instance, print) == [reused]
    assert status(instance, reused) == dg.DagsterRunStatus.FAILURE


def test_a_finished_run_still_holding_a_slot_is_freed_after_the_grace_period(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Marked failed by hand (or by its code server when its worker died), it keeps its slot; the daemon
    # would free it after `free_slots_after_run_end_seconds`, and run_all does the same without a daemon.
    ended = started_run(instance, {})
    run = instance.get_run_by_id(ended)
    assert run is not None
    instance.report_run_failed(run, "marked failed by hand")
    assert release_dead_runs(instance, print) == []  # within the grace period (60 s in dagster.yaml)
    later = time.time() + 61
    monkeypatch.setattr(runs, "time", SimpleNamespace(time=lambda: later, monotonic=time.monotonic))
    assert release_dead_runs(instance, print) == [ended]
    assert slot_claims(instance) == []


def test_the_wait_names_the_holder_and_ends_when_its_process_dies(instance: dg.DagsterInstance) -> None:
    lines: list[str] = []
    with child_process() as child:
        holder = started_run(instance, process_tags(child.pid))
        threading.Timer(1.0, child.kill).start()
        started = time.monotonic()
        wait_for_pool(instance, WAREHOUSE_POOL, lines.append, poll_seconds=0.2)
    assert 1.0 <= time.monotonic() - started < 10
    assert lines[0].startswith(
        f"==> waiting for the {WAREHOUSE_POOL} pool, held by run {holder} (step {STEP}, pid {child.pid} on {HOST}"
    )
    assert lines[1].startswith(
        f"==> run {holder} (STARTED, pid {child.pid} gone) marked failed; freed its slot"
    )
    assert lines[-1].startswith(f"==> the {WAREHOUSE_POOL} pool is free after ")


# --- run_all as `make pipeline` runs it --------------------------------------------------------------------

DEMO_START, DEMO_END = "2024-01-01", "2024-04-01"


def run_all_env(root: Path) -> dict[str, str]:
    """The environment of a deployment of the demo in `root`: its data, and its own Dagster instance."""
    (root / "dagster").mkdir(parents=True, exist_ok=True)
    shutil.copy(INSTANCE_YAML, root / "dagster")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLIENTELE") and k != "DAGSTER_HOME"},
        "CLIENTELE_CONFIG": str(DEMO_CONFIG_PATH),
        "CLIENTELE_DATA_DIR": str(root / "data"),
        "CLIENTELE_END_DATE": DEMO_END,
        # 150 customers put 4 malformed loyalty cards among 72 rows (5.6%), 4 bad tickets among 79.
        "CLIENTELE_MAX_QUARANTINE_SHARE": "0.1",
        "DAGSTER_HOME": str(root / "dagster"),
        "PYTHONUNBUFFERED": "1",
    }


class RunAll:
    """`python -m orchestration.run_all` in its own process group, its output read line by line as it comes.

    As a context manager, it kills the group on the way out if the process still runs (a failed test).
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "orchestration.run_all"],
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a SIGKILL of the group also kills dbt, as a reboot would
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def __enter__(self) -> RunAll:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.kill_group()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def _next_lines(self, timeout: float) -> Iterator[str]:
        """Output lines as they come, until the output ends or `timeout` seconds have passed."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                return
            if line is None:
                return
            self.lines.append(line)
            yield line

    def wait_for_line(self, text: str, timeout: float) -> str:
        for line in self._next_lines(timeout):
            if text in line:
                return line
        pytest.fail(f"run_all never printed {text!r}; its output ended with:\n" + self.tail())

    def finish(self, timeout: float) -> int:
        """Read the output to its end and return the exit code."""
        for _ in self._next_lines(timeout):
            pass
        return self.process.wait(timeout=5)

    def kill_group(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def tail(self) -> str:
        return "\n".join(self.lines[-40:])

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_run_all_waits_for_a_live_holder_without_spinning_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = run_all_env(tmp_path)
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        holder = started_run(instance, process_tags(os.getpid()))  # this test process: alive
    with RunAll(env) as run_all:
        line = run_all.wait_for_line(f"==> waiting for the {WAREHOUSE_POOL} pool", timeout=180)
        assert f"held by run {holder} (step {STEP}, pid {os.getpid()} on {HOST}, since " in line
        cpu_before = run_all.cpu_seconds()
        time.sleep(4)
        assert run_all.cpu_seconds() - cpu_before < 1.0, "the wait spins instead of sleeping"
        sent = time.monotonic()
        run_all.process.send_signal(signal.SIGTERM)
        run_all.wait_for_line("==> stopped by SIGTERM while waiting; nothing was started", timeout=15)
        assert run_all.finish(timeout=15) == 128 + signal.SIGTERM
        assert time.monotonic() - sent < 10
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        assert [run.run_id for run in instance.get_runs()] == [holder]  # no run was launched
        assert [claim.run_id for claim in slot_claims(instance)] == [holder]


# When the row was loaded: it differs between any two runs, so it is no part of a table's content here.
LOAD_TIME_COLUMNS = {"_loaded_at"}


def published_tables(root: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent checksum of every published table (schemas marts, bi, ml)."""
    with duckdb.connect(str(root / "data" / "serving" / "warehouse.duckdb"), read_only=True) as con:
        columns: dict[str, list[str]] = {}
        for table, column in con.execute(
            "select table_schema || '.' || table_name, column_name from information_schema.columns "
            "where table_schema in ('marts', 'bi', 'ml') order by table_schema, table_name, ordinal_position"
        ).fetchall():
            if column not in LOAD_TIME_COLUMNS:
                columns.setdefault(table, []).append(f'"{column}"')
        checksums = {}
        for table, names in columns.items():
            row = con.execute(
                f"select count(*), coalesce(sum(hash(row({', '.join(names)}))::hugeint), 0) from {table}"
            ).fetchone()
            assert row is not None
            checksums[table] = (row[0], row[1])
        return checksums


def test_a_run_killed_in_a_warehouse_step_is_failed_and_the_rerun_matches_an_uninterrupted_one(
    tmp_path: Path,
) -> None:
    killed_root, reference_root = tmp_path / "killed", tmp_path / "reference"
    demo = ["--customers", "150", "--seed", "5", "--start", DEMO_START, "--end", DEMO_END]
    subprocess.run(
        [sys.executable, "-m", "sources.demo", *demo, "--out", str(killed_root / "data")],
        check=True,
        cwd=REPO_ROOT,
        capture_output=True,
    )
    shutil.copytree(killed_root / "data", reference_root / "data")
    killed_env = run_all_env(killed_root)
    # The uninterrupted run goes on beside the killed one and its re-run: separate data, separate instance.
    with RunAll(run_all_env(reference_root)) as reference:
        with RunAll(killed_env) as killed:
            dbt_line = killed.wait_for_line("Running dbt command", timeout=600)
            killed.kill_group()
        assert killed.process.returncode == -signal.SIGKILL

        with dg.DagsterInstance.from_config(killed_env["DAGSTER_HOME"]) as instance:
            [dead] = instance.get_runs()
            assert dead.status == dg.DagsterRunStatus.STARTED
            assert dead.tags[RUN_PID_TAG] == str(killed.process.pid)
            [claim] = slot_claims(instance)
            assert (claim.pool, claim.run_id) == (WAREHOUSE_POOL, dead.run_id)
            assert f" - {claim.step_key} - Running dbt command" in dbt_line

        with RunAll(killed_env) as rerun:
            assert rerun.finish(timeout=900) == 0, rerun.tail()
        assert (
            f"==> run {dead.run_id} (STARTED, pid {killed.process.pid} gone) marked failed; "
            f"freed its slot of {WAREHOUSE_POOL} (step {claim.step_key})"
        ) in rerun.lines
        assert reference.finish(timeout=900) == 0, reference.tail()

    with dg.DagsterInstance.from_config(killed_env["DAGSTER_HOME"]) as instance:
        assert status(instance, dead.run_id) == dg.DagsterRunStatus.FAILURE
        assert slot_claims(instance) == []

    recovered, uninterrupted = published_tables(killed_root), published_tables(reference_root)
    for table in ("marts.fct_orders", "marts.dim_customers", "bi.customer_360", "ml.customer_churn_scores"):
        assert uninterrupted[table][0] > 0, table
    assert recovered == uninterrupted
