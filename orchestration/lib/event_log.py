"""The local instance's event log: Dagster's SQLite storage, writing a step's partition events at once.

A run over a range of days materializes every raw asset once per day: 730 materialization events per
source for a two-year calendar. Dagster's SQLite storage writes each event on its own (a new database
engine, a transaction on the run's file and another on the index), which took about 6 s per source and
48 s per `make run` at any customer count (benchmarks/bench_pipeline.py). Dagster hands a step's
partition events over as one batch when DAGSTER_EVENT_BATCH_SIZE is set, as its PostgreSQL storage
(docs/deploy.md) already writes them; this storage writes such a batch in one transaction per file, the
same rows `store_event` would write one at a time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from dagster import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._serdes import ConfigurableClassData

# Events a step hands over per batch; set by orchestration/definitions.py in every process that runs
# steps, read by Dagster when it logs each event.
BATCH_SIZE_ENV = "DAGSTER_EVENT_BATCH_SIZE"
BATCH_SIZE = "1000"


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """SQLite event log under $DAGSTER_HOME/history/runs (where Dagster's default puts it), with batches of
    materializations written in one transaction per database file."""

    def __init__(self, inst_data: ConfigurableClassData | None = None) -> None:
        super().__init__(os.path.join(os.environ["DAGSTER_HOME"], "history", "runs"), inst_data=inst_data)

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> BatchingSqliteEventLogStorage:
        return cls(inst_data=inst_data)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        kinds = {event.get_dagster_event().event_type for event in events}
        runs = {event.run_id for event in events}
        if kinds != {DagsterEventType.ASSET_MATERIALIZATION} or len(runs) != 1:
            super().store_event_batch(events)  # one at a time, as Dagster would
            return
        statement = self.prepare_insert_event_batch(events)
        with self.run_connection(runs.pop()) as conn:
            conn.execute(statement)
        with self.index_transaction() as conn:
            rows = conn.execute(statement.returning(SqlEventLogStorageTable.c.id)).fetchall()
            event_ids = sorted(
                row[0] for row in rows
            )  # one statement under the write lock: consecutive, in order
            self._store_asset_event_tags(conn, events, event_ids)
            for event, event_id in zip(events, event_ids, strict=True):
                self._store_asset_event(conn, event, event_id)
