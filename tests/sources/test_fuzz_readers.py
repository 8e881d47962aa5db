"""Every reader against inputs nobody wrote by hand: random bytes and random damage to valid exports.

Whatever the bytes, a reader either fails the file with the project's own named error (LandingFileError,
TransactionsFileError; never LandingReaderFault, which marks a fault of ours) or reads it, and then every
record it read is loaded or quarantined: rows read = rows loaded + rows quarantined, in a real DuckDB.
The examples are derandomized and bounded, so the run is the same on every machine and takes seconds.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from landing_fixture import load_days

from sources.config import Calendar, TransactionsFile
from sources.contracts import CONTACTS, MARKETING_EVENTS, ORDERS, SourceContract
from sources.landing import LandingFileError, read_landing_file
from sources.landing_text import LandingReaderFault
from sources.transactions import TransactionsFileError, import_transactions

DAY = date(2024, 3, 1)
FUZZ = settings(
    derandomize=True,
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Valid exports to damage: each holds the features a reader must get right (quotes, line breaks in a
# value, CRLF, escapes, numbers, nested members, typed columns).
ORDERS_CSV = (
    ",".join(ORDERS.column_names)
    + "\r\n"
    + 'O1,A1,,,web,"Main St, 5",2024-03-01T10:00:00,EUR,12.50,2024-03-01T10:00:00\r\n'
    + 'O2,,"a@example.com",,store,"Line one\r\nline two ""quoted""",2024-03-01T11:00:00,EUR,3.00,\r\n'
    + "O3,A2,,L9,web,,2024-03-01T12:00:00,USD,-4.5,2024-03-01T12:00:00\r\n"
).encode()
CONTACTS_JSONL = "".join(
    json.dumps(document, ensure_ascii=False) + "\n"
    for document in (
        {
            "contact_id": "C1",
            "email": "jö@example.com",
            "marketing_consent": True,
            "created_at": "2024-03-01T09:00:00",
            "updated_at": "2024-03-01T09:00:00",
        },
        {
            "contact_id": "C2",
            "region": "north \U0001f600",
            "age_band": 1.10,
            "device": {"os": ["ios", 17]},
            "created_at": "2024-03-01T09:00:00",
            "updated_at": "2024-03-01T09:00:00",
        },
    )
).encode()
TRANSACTIONS_CSV = (
    'customer;ordered_at;total\n0042;2024-03-01 10:00:00;12.50\n"Müller; ""A""";2024-03-01 11:00:00;100\n'
).encode()
TRANSACTIONS = TransactionsFile.model_validate(
    {
        "delimiter": ";",
        "timestamp_format": "%Y-%m-%d %H:%M:%S",
        "columns": {"customer_key": "customer", "ordered_at": "ordered_at", "amount": "total"},
    }
)
CALENDAR = Calendar(start_date=date(2024, 1, 1), end_date=date(2025, 1, 1), timezone="Europe/Berlin")


def _parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


EVENTS_PARQUET = _parquet_bytes(
    pa.table(
        {
            "event_id": ["E1", "E2", "E3"],
            "contact_id": pa.array(["C1", "C1", None]).dictionary_encode(),
            "campaign_id": ["CMP-1", "", "CMP-3"],
            "event_type": ["sent", "opened", "clicked"],
            "occurred_at": pa.array([datetime(2024, 3, 1, 9, 0, 5)] * 3, pa.timestamp("ms", tz="UTC")),
            "score": pa.array([1.5, float("nan"), None], pa.float64()),
            "tags": pa.array([["a"], [], None], pa.list_(pa.string())),
        }
    )
)
TRANSACTIONS_PARQUET = _parquet_bytes(
    pa.table(
        {
            "customer": ["0042", "0043"],
            "ordered_at": pa.array([datetime(2024, 3, 1, 10), datetime(2024, 3, 2, 11)], pa.timestamp("us")),
            "total": pa.array([Decimal("12.50"), Decimal("3.10")], pa.decimal128(12, 2)),
        }
    )
)

# Bytes that mean something to some reader: quotes, line ends, escapes, encodings, JSON specials.
TOKENS = [
    b'"',
    b'""',
    b"\r",
    b"\n",
    b"\r\n",
    b",",
    b";",
    b"\\",
    b"\x1a",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xed\xa0\xbd",
    b"\xc3",
    b"\\ud83d",
    b"{",
    b"}",
    b"[",
    b"NaN",
    b"-Infinity",
    b"1e1000000",
    b"9" * 40,
    b'"x":{"y":1}',
    b"\x85",
    b"\xe2\x80\xa8",
]


@st.composite
def damaged(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` with a few random edits: bytes flipped, cut, repeated, or special tokens put in."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["flip", "insert", "cut", "repeat", "token", "truncate"]))
        if edit == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "cut":
            del data[at : at + draw(st.integers(1, 16))]
        elif edit == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 64))]
        elif edit == "token":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif edit == "truncate":
            del data[at:]
    return bytes(data)


def inputs(seed: bytes) -> st.SearchStrategy[bytes]:
    """Mostly damaged exports (which get past the header and so reach the records), some pure noise."""
    return st.one_of(st.binary(max_size=400), damaged(seed), damaged(seed), damaged(seed))


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def read_and_load(con: duckdb.DuckDBPyConnection, contract: SourceContract, data: bytes) -> None:
    """Read `data` as the day's export; a file that reads must load with every record accounted for."""
    with tempfile.TemporaryDirectory() as folder:
        landing = Path(folder)
        path = contract.file_for(landing, DAY)
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        try:
            batch = read_landing_file(contract, path, DAY)
        except LandingReaderFault:
            raise
        except LandingFileError as exc:
            assert str(path) in str(exc)  # a fatal error names its file
            return
        result = load_days(con, contract, landing, [DAY])
    assert result.rows_read == batch.rows_read == result.rows_loaded + result.rows_quarantined
    if contract is CONTACTS and not batch.notes:
        assert result.rows_read == _json_lines_seen_independently(data)


def _json_lines_seen_independently(data: bytes) -> int:
    """Non-blank lines by the documented rule (LF, CRLF or CR end a line), without the reader's code."""
    text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    return sum(1 for line in re.split(r"\r\n|\r|\n", text) if line.strip(" \t"))


@FUZZ
@given(data=inputs(ORDERS_CSV))
def test_csv_reader_never_crashes_and_accounts_for_every_record(
    con: duckdb.DuckDBPyConnection, data: bytes
) -> None:
    read_and_load(con, ORDERS, data)


@FUZZ
@given(data=inputs(CONTACTS_JSONL))
def test_json_lines_reader_never_crashes_and_accounts_for_every_record(
    con: duckdb.DuckDBPyConnection, data: bytes
) -> None:
    read_and_load(con, CONTACTS, data)


@FUZZ
@given(data=inputs(EVENTS_PARQUET))
def test_parquet_reader_never_crashes_and_accounts_for_every_record(
    con: duckdb.DuckDBPyConnection, data: bytes
) -> None:
    read_and_load(con, MARKETING_EVENTS, data)


def _unchecked_text(values: list[bytes]) -> pa.Array:
    """A Parquet text column holding any bytes, valid UTF-8 or not (as a Latin-1 exporter writes it)."""
    offsets = [0]
    for value in values:
        offsets.append(offsets[-1] + len(value))
    buffers = [None, pa.py_buffer(pa.array(offsets, pa.int32()).buffers()[1]), pa.py_buffer(b"".join(values))]
    return pa.Array.from_buffers(pa.string(), len(values), buffers)


def _column(values: st.SearchStrategy[Any], kind: pa.DataType) -> st.SearchStrategy[pa.Array]:
    """Three values of `values`, or nulls, as an Arrow array of `kind`."""
    return st.lists(st.none() | values, min_size=3, max_size=3).map(lambda v: pa.array(v, kind))


def _any_times_in(unit: str) -> st.SearchStrategy[pa.Array]:
    """Any 64-bit count of `unit` (seconds only as many as Parquet, which stores them as ms, can hold)."""
    bound = (2**63 - 1) // (1000 if unit == "s" else 1)
    return _column(st.integers(-bound, bound), pa.timestamp(unit))


BIG = 10**33
SCALAR_COLUMNS = st.one_of(
    _column(st.text(), pa.string()),
    st.lists(st.binary(max_size=6), min_size=3, max_size=3).map(_unchecked_text),
    st.sampled_from(["s", "ms", "us", "ns"]).flatmap(_any_times_in),
    _column(st.integers(-(2**62), 2**62), pa.timestamp("us", tz="Europe/Berlin")),
    _column(st.integers(-(2**31), 2**31 - 1), pa.date32()),
    _column(st.floats(), pa.float64()),
    _column(st.decimals(-BIG, BIG, allow_nan=False, allow_infinity=False, places=4), pa.decimal128(38, 4)),
    _column(st.integers(-(2**63), 2**63 - 1), pa.int64()),
    _column(st.lists(st.integers(-8, 8), max_size=2), pa.list_(pa.int8())),
)


@FUZZ
@given(columns=st.lists(SCALAR_COLUMNS, min_size=5, max_size=6))
def test_parquet_reader_reads_any_typed_values_or_quarantines_them(
    con: duckdb.DuckDBPyConnection, columns: list[pa.Array]
) -> None:
    names = [*MARKETING_EVENTS.column_names, "added"]
    read_and_load(con, MARKETING_EVENTS, _parquet_bytes(pa.table(dict(zip(names, columns, strict=False)))))


def _transactions_days_bounded(data: bytes) -> bool:
    """A damaged year or month would make the import write a file for every day in between (years of
    files): keep the fuzz to March 2024, which is what it is about (reading, not the calendar)."""
    return all(found == b"2024-03" for found in re.findall(rb"\d{4}-\d{2}(?=-\d)", data))


@FUZZ
@given(data=inputs(TRANSACTIONS_CSV))
def test_transactions_import_of_a_flat_csv_never_crashes_and_loads_what_it_writes(
    con: duckdb.DuckDBPyConnection, data: bytes
) -> None:
    assume(_transactions_days_bounded(data))
    import_and_load(con, data, TRANSACTIONS, "export.csv")


@FUZZ
@given(data=damaged(TRANSACTIONS_PARQUET))
def test_transactions_import_of_a_parquet_file_never_crashes_and_loads_what_it_writes(
    con: duckdb.DuckDBPyConnection, data: bytes
) -> None:
    spec = TRANSACTIONS.model_copy(update={"format": "parquet"})
    import_and_load(con, data, spec, "export.parquet")


def import_and_load(con: duckdb.DuckDBPyConnection, data: bytes, spec: TransactionsFile, name: str) -> None:
    """Import `data` as a flat file; its rows are written or rejected, and the days written load whole."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / name
        source.write_bytes(data)
        try:
            result = import_transactions(
                source,
                spec,
                landing_dir=Path(folder) / "landing",
                calendar=CALENDAR,
                rejects_path=Path(folder) / "rejects.csv",
            )
        except TransactionsFileError as exc:
            assert str(source) in str(exc)
            return
        assert result.rows_read == result.rows_written + result.rows_rejected
        days = sorted(result.days_written + result.days_unchanged)
        written = sorted(date.fromisoformat(p.stem) for p in result.orders_dir.glob("*.csv"))
        assert days == written
        if not days:
            return
        loaded = load_days(con, ORDERS, Path(folder) / "landing", days)
    assert loaded.rows_read == result.rows_written == loaded.rows_loaded + loaded.rows_quarantined
