"""A Parquet export read a column at a time is read exactly as row by row.

`sources.landing_parquet` reads a file's columns with Arrow kernels (`_read_as_block`: canonical texts
and raw JSON as whole arrays, the rows with a problem quarantined one by one, the others kept as one
block) unless a column holds nested values, and row by row otherwise. The block path is only allowed to
be faster: on random tables (texts with quotes, escapes, control and non-ASCII characters, empty and
null; text that is not UTF-8 or too big; integers, floats with NaN and infinities, decimals, booleans;
timestamps in every unit, with and without a zone, in and out of range; dates; dictionary texts; columns
added, missing and out of order) both paths keep the same records with the same values, row numbers and
raw JSON, quarantine the same rows for the same reasons, and fail the same files with the same message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from landing_fixture import SAME_READS, read_outcome

import sources.landing_parquet as landing_parquet
from sources.batches import SourceBatch
from sources.contracts import MARKETING_EVENTS, Column
from sources.landing_text import FIELD_LIMIT_BYTES, LandingFileError

DAY = date(2024, 3, 1)
# The events' shape with optional columns, so that a file may also lack some.
EVENTS = dataclasses.replace(
    MARKETING_EVENTS,
    columns=(
        *MARKETING_EVENTS.columns[:2],
        *(Column(c.name, c.type) for c in MARKETING_EVENTS.columns[2:]),
        Column("channel", "VARCHAR"),
        Column("score", "DECIMAL(12,2)"),
    ),
)
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}

_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(
            ["a", "1", " ", "é", "ß", "😀", '"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "\u2028"]
        ),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=5,
)


# The first and last day with a text, and the days a Python date holds (and the day after them).
_EDGE_DAYS = [
    (day - date(1970, 1, 1)).days for day in (date(1, 1, 2), date(9999, 12, 30), date.min, date.max)
]
_EDGE_DAYS.append(_EDGE_DAYS[-1] + 1)


def _times(unit: str) -> st.SearchStrategy[int]:
    """Counts of `unit` after the epoch: around now, whole seconds, any, and the edges of every range."""
    per_second = _PER_SECOND[unit]
    bound = (2**63 - 1) // (1000 if unit == "s" else 1)  # Parquet stores seconds as milliseconds
    edges = [day * 86_400 * per_second + step for day in _EDGE_DAYS for step in (-1, 0, 1)]
    edges += [-bound, bound]  # nanoseconds reach no year outside 1678 to 2261
    return st.one_of(
        st.integers(1_700_000_000 * per_second, 1_800_000_000 * per_second),
        st.integers(1_700_000_000, 1_800_000_000).map(lambda seconds: seconds * per_second),
        st.integers(-bound, bound),
        st.sampled_from([edge for edge in edges if abs(edge) <= bound]),
    )


def _days() -> st.SearchStrategy[int]:
    edges = [day + step for day in _EDGE_DAYS for step in (-1, 0, 1)]
    return st.one_of(st.integers(19_000, 20_500), st.integers(-(2**31), 2**31 - 1), st.sampled_from(edges))


def _decimals(precision: int, scale: int) -> st.SearchStrategy[Decimal]:
    largest = Decimal(10 ** (precision - scale)) - Decimal(10) ** -scale
    return st.one_of(
        st.decimals(-largest, largest, places=scale, allow_nan=False, allow_infinity=False),
        st.sampled_from([Decimal(0), Decimal("-0"), Decimal(10) ** -scale, Decimal(1)]),
    )


def _unchecked_text(values: list[bytes]) -> pa.Array:
    """A text column holding any bytes, valid UTF-8 or not (as a Latin-1 exporter writes it)."""
    offsets = [0]
    for value in values:
        offsets.append(offsets[-1] + len(value))
    buffers = [None, pa.array(offsets, pa.int32()).buffers()[1], pa.py_buffer(b"".join(values))]
    return pa.Array.from_buffers(pa.string(), len(values), buffers)


def _typed(values: st.SearchStrategy[Any], make: Callable[[list[Any]], pa.Array]) -> Any:
    return lambda rows: st.lists(st.none() | values, min_size=rows, max_size=rows).map(make)


def _timestamps(unit: str, zone: str | None) -> Any:
    return _typed(_times(unit), lambda v: pa.array(v, pa.int64()).cast(pa.timestamp(unit, zone)))


_COLUMNS: list[Any] = [
    _typed(_text, lambda v: pa.array(v, pa.string())),
    _typed(_text, lambda v: pa.array(v, pa.large_string())),
    _typed(_text, lambda v: pa.array(v, pa.string()).dictionary_encode()),
    _typed(st.sampled_from(["", "E1", "x"]), lambda v: pa.array(v, pa.string())),
    lambda rows: st.lists(st.binary(max_size=4), min_size=rows, max_size=rows).map(_unchecked_text),
    lambda rows: st.integers(0, max(rows - 1, 0)).map(
        lambda at: pa.array(
            ["é" * (FIELD_LIMIT_BYTES // 2 + 1) if row == at else "ok" for row in range(rows)]
        )
    ),
    _typed(st.integers(-(2**63), 2**63 - 1), lambda v: pa.array(v, pa.int64())),
    _typed(st.integers(-128, 127), lambda v: pa.array(v, pa.int8())),
    _typed(st.integers(0, 2**64 - 1), lambda v: pa.array(v, pa.uint64())),
    _typed(st.floats(), lambda v: pa.array(v, pa.float64())),
    _typed(st.floats(width=32), lambda v: pa.array(v, pa.float32())),
    _typed(_decimals(12, 2), lambda v: pa.array(v, pa.decimal128(12, 2))),
    _typed(_decimals(38, 10), lambda v: pa.array(v, pa.decimal128(38, 10))),
    _typed(_decimals(5, 0), lambda v: pa.array(v, pa.decimal128(5, 0))),
    _typed(_decimals(40, 3), lambda v: pa.array(v, pa.decimal256(40, 3))),
    _typed(st.booleans(), lambda v: pa.array(v, pa.bool_())),
    *(_timestamps(unit, None) for unit in _PER_SECOND),
    *(_timestamps(unit, zone) for unit in ("ms", "us", "ns") for zone in ("UTC", "Europe/Berlin")),
    _typed(_days(), lambda v: pa.array(v, pa.int32()).cast(pa.date32())),
    lambda rows: st.just(pa.nulls(rows)),
]
_NESTED = _typed(st.lists(st.integers(-8, 8), max_size=2), lambda v: pa.array(v, pa.list_(pa.int8())))


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    """Mostly the contract's required columns, some optional ones and extras, in any order, of any type."""
    optional = [name for name in EVENTS.column_names if name not in EVENTS.required_columns]
    names = [*EVENTS.required_columns, *draw(st.lists(st.sampled_from(optional), unique=True))]
    if draw(st.integers(0, 9)) == 0:
        names.remove(draw(st.sampled_from(names)))
    names += draw(st.lists(st.sampled_from(["note", 'quo"te', "zé"]), unique=True))
    rows = draw(st.integers(0, 8))
    columns = st.sampled_from(_COLUMNS if draw(st.integers(0, 9)) else [*_COLUMNS, _NESTED])
    return pa.table({name: draw(draw(columns)(rows)) for name in draw(st.permutations(names))})


def _read(path: Path, block: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[object, ...] | str:
    batch = SourceBatch(EVENTS, str(path), DAY, columns={c: [] for c in EVENTS.column_names})
    with monkeypatch.context() as patch:
        if not block:
            patch.setattr(landing_parquet, "_read_as_block", lambda path, table, batch: False)
        try:
            landing_parquet.parse_parquet(path, batch)
        except LandingFileError as error:
            return str(error)
    return read_outcome(batch)


@SAME_READS
@given(table=tables())
def test_tables_read_the_same_a_column_or_a_row_at_a_time(
    table: pa.Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)
    assert _read(path, True, monkeypatch) == _read(path, False, monkeypatch)


def _events(tmp_path: Path, **columns: pa.Array) -> tuple[Path, SourceBatch]:
    table = {
        "event_id": ["E1", "E2"],
        "contact_id": ["C1", ""],
        "campaign_id": ['say "hi"', "CMP-2"],
        "event_type": ["sent", "opened"],
        "occurred_at": pa.array(
            [datetime(2024, 3, 1, 9), datetime(2024, 3, 1, 9, 0, 5, 10)], pa.timestamp("us")
        ),
        **columns,
    }
    path = tmp_path / "events.parquet"
    pq.write_table(pa.table(table), path)
    return path, SourceBatch(EVENTS, str(path), DAY, columns={c: [] for c in EVENTS.column_names})


def test_scalar_columns_are_read_as_one_block(tmp_path: Path) -> None:
    path, batch = _events(tmp_path, score=pa.array([1.5, float("nan")]))
    landing_parquet.parse_parquet(path, batch)
    assert not batch.line_numbers and [table.num_rows for table in batch.tables] == [1]
    [record] = batch.records().to_pylist()
    assert record["_raw"] == (
        '{"event_id":"E1","contact_id":"C1","campaign_id":"say \\"hi\\"","event_type":"sent",'
        '"occurred_at":"2024-03-01 09:00:00","score":1.5}'
    )
    assert record["contact_id"] == "C1" and record["score"] == "1.5"
    assert [(q.line_number, q.reason) for q in batch.quarantined] == [(2, "field score: nan is not a number")]


def test_a_nested_column_is_read_row_by_row(tmp_path: Path) -> None:
    path, batch = _events(tmp_path, tags=pa.array([["a"], []]))
    landing_parquet.parse_parquet(path, batch)
    assert not batch.tables and batch.line_numbers == [1, 2]
