"""Real landing files in a temporary folder, loaded the way the raw assets load them, into a DuckDB file.

`load_days` is the asset's path (`read_landing_file` per day, then one `load_window`); `snapshot` is the
whole raw state of a source without load times, so a test can say "nothing changed" or "identical".
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, settings

from sources.batches import SourceBatch
from sources.contracts import SourceContract
from sources.landing import read_landing_file
from sources.raw_tables import QUARANTINE_TABLE, LoadResult, load_window, raw_table_name

KEY = b"reliability-test-key"

# The property tests proving a reader's block path reads what its record-by-record path reads.
SAME_READS = settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def read_outcome(batch: SourceBatch, in_line_order: bool = True) -> tuple[object, ...]:
    """Everything a reader decided about a batch, to compare two ways of reading it: kept records,
    quarantined ones, the shape and the count; in line order, unless the order kept is compared too."""
    records, quarantined = batch.records().to_pylist(), batch.quarantined
    if in_line_order:
        records = sorted(records, key=lambda record: record["_line_number"])
        quarantined = sorted(quarantined, key=lambda record: record.line_number)
    return records, quarantined, batch.added_columns, batch.missing_columns, batch.rows_read


def write_text(contract: SourceContract, landing: Path, day: date, content: str | bytes) -> Path:
    """A CSV or JSON lines export with exactly `content` (text is written in the contract's encoding)."""
    path = contract.file_for(landing, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode(contract.encoding) if isinstance(content, str) else content)
    return path


def write_csv(contract: SourceContract, landing: Path, day: date, header: str, *rows: str) -> Path:
    return write_text(contract, landing, day, "".join(f"{line}\n" for line in (header, *rows)))


def write_jsonl(contract: SourceContract, landing: Path, day: date, *documents: dict[str, Any]) -> Path:
    return write_text(contract, landing, day, "".join(json.dumps(d) + "\n" for d in documents))


def write_parquet(contract: SourceContract, landing: Path, day: date, table: pa.Table) -> Path:
    path = contract.file_for(landing, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def warehouse(folder: Path) -> duckdb.DuckDBPyConnection:
    """The DuckDB file of a test (one per folder; connecting again reopens the same file)."""
    folder.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(folder / "warehouse.duckdb"))


def load_days(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, landing: Path, days: list[date]
) -> LoadResult:
    """Read each day's export and replace the window [first day, last day + 1) in one load."""
    files = [read_landing_file(contract, contract.file_for(landing, day), day) for day in days]
    return load_window(con, contract, files, days[0], days[-1] + timedelta(days=1), KEY)


def snapshot(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> dict[str, list[tuple[Any, ...]]]:
    """Every raw row and quarantined row of the source, load times left out."""
    return {
        "raw": con.execute(
            f"select * exclude (_loaded_at) from {raw_table_name(contract)} order by all"
        ).fetchall(),
        "quarantine": con.execute(
            f"select * exclude (loaded_at) from {QUARANTINE_TABLE} where source = ? order by all",
            [contract.raw_table],
        ).fetchall(),
    }


def assert_accounted(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, result: LoadResult, records_in_files: int
) -> None:
    """Every record written is loaded or quarantined, and the tables hold exactly what the result says."""
    assert result.rows_read == records_in_files
    assert result.rows_loaded + result.rows_quarantined == records_in_files
    window = [result.window_start, result.window_end]
    [(loaded,)] = con.execute(
        f"select count(*) from {raw_table_name(contract)} where _export_date >= ? and _export_date < ?",
        window,
    ).fetchall()
    [(quarantined,)] = con.execute(
        f"select count(*) from {QUARANTINE_TABLE} where source = ? and export_date >= ? and export_date < ?",
        [contract.raw_table, *window],
    ).fetchall()
    assert (loaded, quarantined) == (result.rows_loaded, result.rows_quarantined)


def quarantine_reasons(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> dict[int, str]:
    """Reason per quarantined line number of the source."""
    rows = con.execute(
        f"select line_number, reason from {QUARANTINE_TABLE} where source = ? order by line_number",
        [contract.raw_table],
    ).fetchall()
    return dict(rows)
