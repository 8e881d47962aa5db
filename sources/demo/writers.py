"""Landing files on disk: rows as CSV, JSON lines or Parquet, one file per source and export day.

Every export day gets a file even when nothing happened that day (CSV: header only; JSONL: empty;
Parquet: the schema without rows), so a missing file always means a missing export. CSV follows Python's csv module (QUOTE_MINIMAL: a field is
quoted only if it holds a comma, quote or line break; quotes are doubled) with '\n' line ends. JSON lines
look like `json.dumps` output; INTEGER and BOOLEAN columns are written as JSON numbers and booleans when
their text is one, as strings otherwise. Parquet is typed the way a CRM's export would be (timestamps as
timestamps, money as decimals; see `parquet_type`), so its values carry no spelling to get wrong. Rows
are rendered in chunks of whole days, so memory stays
bounded whatever the run's size, and each day's bytes are sliced straight out of the Arrow buffer. A
run writes into a staging folder that replaces the previous landing and truth folders only when it
completes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sources.contracts import FileFormat, SourceContract
from sources.demo import text
from sources.demo.records import Columns
from sources.demo.timeline import Timeline

LANDING_DIR = "landing"
TRUTH_DIR = "truth"
CHUNK_ROWS = 1_000_000
_CSV_SPECIAL = b',"\r\n'
_JSON_SPECIAL = b'"\\'
_JSON_RAW_PATTERNS = {"INTEGER": r"^-?[0-9]+$", "BOOLEAN": r"^(true|false)$"}


def _without_nulls(values: pa.Array, replacement: str) -> pa.Array:
    return pc.fill_null(values, pa.scalar(replacement, type=text.TEXT)) if values.null_count else values


def _changed_rows(values: pa.Array, special: bytes, change: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """`values` with `change` applied to the (usually very few) values holding a special character."""
    rows = text.rows_containing(values, special)
    return text.replace_rows(values, rows, change(values.take(pa.array(rows)))) if rows.size else values


def _csv_field(values: pa.Array, suffix: str) -> pa.Array:
    quoted = _changed_rows(
        _without_nulls(values, ""),
        _CSV_SPECIAL,
        lambda special: text.concat('"', pc.replace_substring(special, '"', '""'), '"'),
    )
    return text.concat(quoted, suffix) if suffix else quoted


def _json_member(name: str, column_type: str, values: pa.Array, prefix: str, suffix: str) -> pa.Array:
    """`prefix"name": value suffix` per row, the value a JSON string, number, boolean or null."""
    escaped = _changed_rows(
        values,
        _JSON_SPECIAL,
        lambda special: pc.replace_substring(pc.replace_substring(special, "\\", "\\\\"), '"', '\\"'),
    )
    member = text.concat(f'{prefix}"{name}": "', escaped, f'"{suffix}')
    if column_type in _JSON_RAW_PATTERNS:
        raw = pc.match_substring_regex(values, _JSON_RAW_PATTERNS[column_type])
        member = pc.if_else(raw, text.concat(f'{prefix}"{name}": ', values, suffix), member)
    return _without_nulls(member, f'{prefix}"{name}": null{suffix}')


def render_lines(contract: SourceContract, columns: Columns) -> pa.Array:
    """One line of text per row, line end included, in the contract's text format (CSV or JSON lines)."""
    last = len(contract.columns) - 1
    if contract.format is FileFormat.CSV:
        fields = [
            _csv_field(columns[c.name], "\n" if i == last else "") for i, c in enumerate(contract.columns)
        ]
        return pc.binary_join_element_wise(*fields, pa.scalar(contract.delimiter, type=text.TEXT))
    members = [
        _json_member(c.name, c.type, columns[c.name], "{" if i == 0 else "", "}\n" if i == last else "")
        for i, c in enumerate(contract.columns)
    ]
    return pc.binary_join_element_wise(*members, pa.scalar(", ", type=text.TEXT))


def _header(contract: SourceContract) -> bytes:
    if contract.format is FileFormat.CSV:
        return (contract.delimiter.join(contract.column_names) + "\n").encode(contract.encoding)
    return b""


def _day_chunks(day_bounds: np.ndarray) -> Iterator[tuple[int, int]]:
    """Consecutive day ranges [first, last) holding about CHUNK_ROWS rows each (a day is never split)."""
    first = 0
    n_days = day_bounds.size - 1
    while first < n_days:
        last = int(np.searchsorted(day_bounds, day_bounds[first] + CHUNK_ROWS, side="right")) - 1
        last = min(max(last, first + 1), n_days)
        yield first, last
        first = last


DayFiles = list[tuple[Path, int, int]]  # per export day: its file and its rows [start, stop) in the chunk


def _day_files(
    contract: SourceContract, landing_dir: Path, timeline: Timeline, export_day: np.ndarray
) -> Iterator[tuple[int, int, DayFiles]]:
    """Chunks of whole days as rows [first, last) of the source and the files of the days in them."""
    if export_day.size and (
        export_day[0] < 0 or export_day[-1] >= timeline.n_days or np.any(np.diff(export_day) < 0)
    ):
        raise ValueError(f"{contract.raw_table}: rows must be sorted by export day, all inside the period")
    day_bounds = np.searchsorted(export_day, np.arange(timeline.n_days + 1))
    dates = timeline.export_dates()
    contract.file_for(landing_dir, dates[0]).parent.mkdir(parents=True, exist_ok=True)
    for first_day, last_day in _day_chunks(day_bounds):
        first_row, last_row = int(day_bounds[first_day]), int(day_bounds[last_day])
        days = [
            (
                contract.file_for(landing_dir, dates[day]),
                int(day_bounds[day]) - first_row,
                int(day_bounds[day + 1]) - first_row,
            )
            for day in range(first_day, last_day)
        ]
        yield first_row, last_row, days


def write_source(
    contract: SourceContract,
    landing_dir: Path,
    timeline: Timeline,
    export_day: np.ndarray,
    lines: Callable[[int, int], pa.Array],
) -> None:
    """Write one text file per export day; rows are in file order, `lines(first, last)` renders rows [first, last).

    The rendered lines must each end with a line break.
    """
    head = _header(contract)
    for first_row, last_row, days in _day_files(contract, landing_dir, timeline, export_day):
        offsets, data = text.buffers(lines(first_row, last_row))
        for path, start, stop in days:
            with open(path, "wb") as file:
                file.write(head)
                file.write(data[offsets[start] : offsets[stop]])


def parquet_type(column_type: str) -> pa.DataType:
    """The Arrow type a typed export stores a contract column as."""
    upper = column_type.upper()
    if upper == "TIMESTAMP":
        return pa.timestamp("us")
    if upper == "INTEGER":
        return pa.int32()
    if upper == "BOOLEAN":
        return pa.bool_()
    if upper.startswith("DECIMAL("):
        precision, scale = upper.removeprefix("DECIMAL(").rstrip(")").split(",")
        return pa.decimal128(int(precision), int(scale))
    if upper == "VARCHAR":
        return pa.string()
    raise ValueError(f"no Parquet type for {column_type}")


def write_parquet_source(
    contract: SourceContract,
    landing_dir: Path,
    timeline: Timeline,
    export_day: np.ndarray,
    columns: Callable[[int, int], Columns],
) -> None:
    """Write one Parquet file per export day; `columns(first, last)` gives the text of rows [first, last).

    The text is cast to each column's `parquet_type`, so it must be a valid value or null.
    """
    schema = pa.schema([(c.name, parquet_type(c.type)) for c in contract.columns])
    for first_row, last_row, days in _day_files(contract, landing_dir, timeline, export_day):
        values = columns(first_row, last_row)
        table = pa.table([pc.cast(values[f.name], f.type) for f in schema], schema=schema)
        for path, start, stop in days:
            pq.write_table(table.slice(start, stop - start), path)


@contextmanager
def staged_output(out_dir: Path) -> Iterator[Path]:
    """A staging folder inside `out_dir` whose landing/ and truth/ replace the old ones on success."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-staging-", dir=out_dir))
    try:
        yield staging
        for name in (LANDING_DIR, TRUTH_DIR):
            target = out_dir / name
            if target.exists():
                target.rename(staging / f"previous-{name}")
            (staging / name).rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
