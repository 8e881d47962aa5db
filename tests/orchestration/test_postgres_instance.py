"""The production Dagster instance (orchestration/dagster.postgres.yaml) on the machine's real PostgreSQL.

The file is loaded as operators load it, from a $DAGSTER_HOME holding it as dagster.yaml with the
DAGSTER_PG_* variables pointing at a fresh database, and the whole pipeline runs on it as `make pipeline`
runs it, in its own interpreter (the code location reads its configuration when it loads).
`orchestration.run_all` executes in process, so the queue (QueuedRunCoordinator), run retries and run
monitoring, which are the daemon's, are checked as configuration here, not exercised.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import psycopg
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no type hints
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage
from psycopg.conninfo import conninfo_to_dict

from orchestration.lib.warehouse import WAREHOUSE_POOL
from sources.config import REPO_ROOT
from sources.demo.config import DEMO_CONFIG_PATH

PRODUCTION_INSTANCE_YAML = REPO_ROOT / "orchestration" / "dagster.postgres.yaml"
LOCAL_INSTANCE_YAML = REPO_ROOT / "orchestration" / "dagster.yaml"
PG_VARIABLES = (
    "DAGSTER_PG_HOST",
    "DAGSTER_PG_PORT",
    "DAGSTER_PG_USER",
    "DAGSTER_PG_PASSWORD",
    "DAGSTER_PG_DB",
)


def instance_environment(conninfo: str) -> dict[str, str]:
    """The DAGSTER_PG_* variables that point the production instance at `conninfo`'s database."""
    parts = conninfo_to_dict(conninfo)
    values = (
        parts.get("host", "127.0.0.1"),
        parts.get("port", "5432"),
        parts.get("user", "postgres"),
        parts.get("password", ""),
        parts["dbname"],
    )
    return {name: str(value) for name, value in zip(PG_VARIABLES, values, strict=True)}


def production_home(home: Path) -> Path:
    """A $DAGSTER_HOME as docs/deploy.md lays it out: the production file copied in as dagster.yaml."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(PRODUCTION_INSTANCE_YAML, home / "dagster.yaml")
    return home


@contextmanager
def production_instance(home: Path, conninfo: str) -> Iterator[dg.DagsterInstance]:
    """The production instance on `conninfo`'s database, the variables set only while it is opened."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in instance_environment(conninfo).items():
            env.setenv(name, value)
        with dg.DagsterInstance.from_config(str(production_home(home))) as instance:
            yield instance


@pytest.fixture
def instance(postgres_url: str, tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    with production_instance(tmp_path / "home", postgres_url) as opened:
        yield opened


def test_runs_events_and_schedules_are_stored_in_the_postgres_database(
    instance: dg.DagsterInstance, postgres_url: str
) -> None:
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    with psycopg.connect(postgres_url) as connection:
        tables = {row[0] for row in connection.execute("select tablename from pg_tables")}
    # created on first load, in the database the variables name
    assert {"runs", "event_logs", "jobs", "concurrency_limits", "alembic_version"} <= tables


def test_every_connection_setting_comes_from_the_environment() -> None:
    # A password (or any address) written into the file would be committed with it.
    settings = yaml.safe_load(PRODUCTION_INSTANCE_YAML.read_text())["storage"]["postgres"]["postgres_db"]
    from_environment = {key: value["env"] for key, value in settings.items() if isinstance(value, dict)}
    assert from_environment == {
        "hostname": "DAGSTER_PG_HOST",
        "port": "DAGSTER_PG_PORT",
        "username": "DAGSTER_PG_USER",
        "password": "DAGSTER_PG_PASSWORD",
        "db_name": "DAGSTER_PG_DB",
    }
    # SQLAlchemy 2.1 would pick psycopg 3 for `postgresql://`, on which dagster-postgres cannot record
    # a run's events (`NOTIFY run_events, $1` is a syntax error there): the driver must stay psycopg2.
    assert settings["scheme"] == "postgresql+psycopg2"


def test_a_missing_variable_fails_the_load_naming_it(postgres_url: str, tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as env:
        for name, value in instance_environment(postgres_url).items():
            env.setenv(name, value)
        env.delenv("DAGSTER_PG_PASSWORD")
        with pytest.raises(Exception, match="DAGSTER_PG_PASSWORD"):
            dg.DagsterInstance.from_config(str(production_home(tmp_path / "home")))


def test_runs_wait_in_the_queue_and_warehouse_steps_take_the_one_pool_slot(
    instance: dg.DagsterInstance,
) -> None:
    assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
    concurrency = instance.get_concurrency_config()
    assert concurrency.run_queue_config is not None
    assert concurrency.run_queue_config.max_concurrent_runs == 4
    assert concurrency.pool_config.default_pool_limit == 1
    assert concurrency.pool_config.pool_granularity is not None
    assert concurrency.pool_config.pool_granularity.value == "op"
    # On PostgreSQL itself: the pool gets its one slot on first use, and a second run's step waits.
    events = instance.event_log_storage
    assert events.supports_global_concurrency_limits
    events.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
    assert events.get_concurrency_info(WAREHOUSE_POOL).slot_count == 1
    assert events.claim_concurrency_slot(WAREHOUSE_POOL, "run-a", "raw_sales_orders").is_claimed
    assert not events.claim_concurrency_slot(WAREHOUSE_POOL, "run-b", "raw_sales_orders").is_claimed
    events.free_concurrency_slots_for_run("run-a")
    assert events.claim_concurrency_slot(WAREHOUSE_POOL, "run-b", "raw_sales_orders").is_claimed


def test_the_pools_are_the_local_instances() -> None:
    # Two files, one policy: the DuckDB writer pool must be the same wherever the pipeline runs.
    production = yaml.safe_load(PRODUCTION_INSTANCE_YAML.read_text())
    local = yaml.safe_load(LOCAL_INSTANCE_YAML.read_text())
    assert production["concurrency"]["pools"] == local["concurrency"]["pools"]


def test_failed_runs_are_retried_and_stuck_runs_failed(instance: dg.DagsterInstance) -> None:
    assert instance.run_retries_enabled
    assert instance.run_retries_max_retries == 2
    assert instance.run_retries_retry_on_asset_or_op_failure
    assert instance.run_monitoring_enabled
    assert instance.run_monitoring_start_timeout_seconds == 180
    assert instance.run_monitoring_cancel_timeout_seconds == 180
    assert instance.run_monitoring_max_runtime_seconds == 6 * 3600  # a run whose worker died ends
    # a crashed run's pool slot is freed, or the one-slot pool would block every later run
    assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 60
    assert not instance.telemetry_enabled
    # the daemon processes `dagster-daemon run` must keep alive for this configuration
    assert {"QUEUED_RUN_COORDINATOR", "MONITORING", "EVENT_LOG_CONSUMER", "SCHEDULER", "SENSOR"} <= set(
        instance.get_required_daemon_types()
    )


def _run(env: dict[str, str], *args: str) -> None:
    result = subprocess.run([sys.executable, *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, (
        f"{' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )


def test_the_whole_pipeline_runs_on_a_postgres_instance(postgres_url: str, tmp_path: Path) -> None:
    data_dir, home = tmp_path / "data", production_home(tmp_path / "home")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CLIENTELE", "DAGSTER_PG_"))},
        **instance_environment(postgres_url),
        "CLIENTELE_CONFIG": str(DEMO_CONFIG_PATH),
        "CLIENTELE_DATA_DIR": str(data_dir),
        "CLIENTELE_END_DATE": "2024-04-01",
        # The generator plants malformed rows of each kind in every source: here 4 of 66 loyalty-card rows
        # (6%), above a 5% gate, so the gate is opened to 10%, as for the other runs this small.
        "CLIENTELE_MAX_QUARANTINE_SHARE": "0.1",
        "DAGSTER_HOME": str(home),
    }
    demo = ["--customers", "150", "--seed", "5", "--start", "2024-01-01", "--end", "2024-04-01"]
    _run(env, "-m", "sources.demo", *demo, "--out", str(data_dir))
    _run(env, "-m", "orchestration.run_all")

    with production_instance(home, postgres_url) as instance:
        [run] = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.SUCCESS
        for key in (["bi", "customer_360"], ["serving", "bi_warehouse"], ["ml", "customer_churn_scores"]):
            materialization = instance.get_latest_materialization_event(dg.AssetKey(key))
            assert materialization is not None and materialization.run_id == run.run_id, key
        # every export day of the window, 2024-01-01 .. 2024-03-31, recorded per raw asset
        for source in ("sales_orders", "crm_contacts"):
            days = instance.get_materialized_partitions(dg.AssetKey(["raw", source]))
            assert len(days) == 91 and min(days) == "2024-01-01" and max(days) == "2024-03-31", source
        # the warehouse steps took their slot in the pool on PostgreSQL, and gave it back
        assert WAREHOUSE_POOL in instance.event_log_storage.get_concurrency_keys()
        assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots == []
