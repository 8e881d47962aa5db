"""Parquet landing files: each row's typed values as canonical text, or the row quarantined saying why.

Parquet carries types instead of spellings, so its values get one canonical text (timestamps
`YYYY-MM-DD HH:MM:SS[.ffffff]`, numbers without exponent or trailing zeros, booleans `true` / `false`).
A value that has no such text is its row's problem, never the file's: a text column holding bytes that
are not UTF-8, a timestamp outside the years 1 to 9999 (a millisecond column holding microseconds) or
finer than microseconds, a NaN. Only a file pyarrow cannot read, or a schema naming a column twice,
fails as a whole. A row's locator is its 1-based row number in the file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sources.batches import SourceBatch
from sources.landing_text import LandingFileError, shown, too_big

_EPOCH = date(1970, 1, 1)
# A day inside each end, so a zone's offset cannot carry a wall-clock time past year 1 or 9999.
_FIRST_DAY = (date(1, 1, 2) - _EPOCH).days
_LAST_DAY = (date(9999, 12, 30) - _EPOCH).days
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_PER_DAY_DATE64 = 86_400_000


@dataclass
class ColumnText:
    """A column as canonical text per row, and the rows whose value has none (row index -> why)."""

    values: list[str | None]
    problems: dict[int, str] = field(default_factory=dict)


def read_parquet_table(path: Path) -> pa.Table:
    """The whole file as a table; any failure to read it is the file's, named."""
    try:
        with pq.ParquetFile(path) as parquet:  # the file alone, as written: no dataset discovery
            table = parquet.read()
    # pyarrow reads untrusted bytes here and reports damage as whatever its decoders raise.
    except Exception as exc:
        raise LandingFileError(f"{path}: not a readable Parquet file: {exc}") from exc
    names = table.column_names
    twice = [name for index, name in enumerate(names) if name in names[:index]]
    if twice:
        raise LandingFileError(
            f"{path}: the schema names column {shown(twice[0])!r} twice; which one holds the values "
            "cannot be told"
        )
    return table


def parse_parquet(path: Path, batch: SourceBatch) -> None:
    """Read a Parquet export into `batch`: one record per row, kept or quarantined with its reasons."""
    table = read_parquet_table(path)
    missing = batch.compare_shape(table.column_names)
    if missing:
        raise LandingFileError(f"{path}: required columns missing: {', '.join(missing)}")
    texts: dict[str, ColumnText] = {}
    not_scalar: dict[str, pa.DataType] = {}  # contract columns whose type has no scalar text
    for name in batch.columns:
        if name not in table.column_names:
            texts[name] = ColumnText([None] * table.num_rows)
            continue
        column = table.column(name)
        try:
            text = column_text(column)
        except (pa.ArrowException, ValueError, OverflowError) as exc:  # a type we read but cannot convert
            raise LandingFileError(f"{path}: column {name} ({column.type}) cannot be read: {exc}") from exc
        if text is None:
            not_scalar[name] = column.type
            text = ColumnText([None] * table.num_rows, _held_rows(column))
        texts[name] = text
    raw_records = parquet_raw_records(table)
    for row, raw in enumerate(raw_records):
        reason = _row_reason(row, texts, not_scalar)
        if reason:
            batch.quarantine(row + 1, raw, reason)
        else:
            batch.keep(row + 1, raw, (texts[name].values[row] for name in batch.columns))


def _held_rows(column: pa.ChunkedArray) -> dict[int, str]:
    """Rows holding a value in a column whose values have no text (a list, a struct, bytes)."""
    valid = pc.is_valid(column).to_pylist()
    return {row: "" for row, holds in enumerate(valid) if holds}


def _row_reason(row: int, texts: dict[str, ColumnText], not_scalar: dict[str, pa.DataType]) -> str:
    held = [f"{name} ({kind})" for name, kind in not_scalar.items() if row in texts[name].problems]
    reasons = [f"fields hold values that are not scalars: {', '.join(held)}"] if held else []
    reasons += [
        f"field {name}: {text.problems[row]}"
        for name, text in texts.items()
        if name not in not_scalar and row in text.problems
    ]
    return "; ".join(reasons)


def column_text(column: pa.ChunkedArray) -> ColumnText | None:
    """A column's values as canonical text, or None when its type has no scalar text."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return column_text(column.cast(kind.value_type))
    if pa.types.is_null(kind):
        return ColumnText([None] * len(column))
    if pa.types.is_floating(kind):
        return _float_text(column)
    if pa.types.is_decimal(kind):
        return ColumnText([None if v is None else number_text(v) for v in column.to_pylist()])
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return _utf8_text(column)
    if pa.types.is_timestamp(kind):
        return _timestamp_text(column)
    if pa.types.is_date(kind):
        return _date_text(column)
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        return ColumnText(pc.cast(column, pa.string()).to_pylist())
    return None


def _float_text(column: pa.ChunkedArray) -> ColumnText:
    text = ColumnText([])
    for row, value in enumerate(column.cast(pa.float64()).to_pylist()):
        if value is not None and not math.isfinite(value):
            text.problems[row] = f"{value} is not a number"
            value = None
        text.values.append(None if value is None else number_text(value))
    return text


def _utf8_text(column: pa.ChunkedArray) -> ColumnText:
    """Text values, '' absent; a value that is not UTF-8 (Latin-1 bytes, say) or too big is its row's
    problem."""
    text = ColumnText([])
    for row, data in enumerate(column.cast(pa.large_binary()).to_pylist()):
        value = None
        if data is not None:
            try:
                value = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                text.problems[row] = (
                    f"not valid UTF-8 text: byte {data[exc.start : exc.start + 1]!r} at offset {exc.start}"
                )
            else:
                oversize = too_big(value)
                if oversize:
                    text.problems[row], value = oversize, None
        text.values.append(value or None)
    return text


def _timestamp_text(column: pa.ChunkedArray) -> ColumnText:
    """`YYYY-MM-DD HH:MM:SS[.ffffff]`; a zoned column as the wall-clock time of its own zone, like the
    text formats. A value outside the years 1 to 9999 or finer than microseconds is its row's problem."""
    kind = column.type
    per_second = _PER_SECOND[kind.unit]
    first, last = _FIRST_DAY * 86_400 * per_second, _LAST_DAY * 86_400 * per_second
    problems: dict[int, str] = {}
    for row, count in enumerate(column.cast(pa.int64()).to_pylist()):
        if count is None:
            continue
        if not first <= count <= last:
            problems[row] = (
                f"{count} {kind.unit} after 1970-01-01 is not a time between the years 1 and 9999 "
                "(a column written in another unit?)"
            )
        elif kind.unit == "ns" and count % 1000:
            problems[row] = f"{count} ns has digits finer than the microseconds a TIMESTAMP holds"
    readable = without_rows(column, problems)
    local = pc.local_timestamp(readable) if kind.tz else readable
    as_text = pc.cast(local.cast(pa.timestamp("us"), safe=False), pa.string())
    return ColumnText(pc.replace_substring_regex(as_text, r"\.0+$", "").to_pylist(), problems)


def _date_text(column: pa.ChunkedArray) -> ColumnText:
    """`YYYY-MM-DD`; a date outside the years 1 to 9999 is its row's problem."""
    per_day = 1 if pa.types.is_date32(column.type) else _PER_DAY_DATE64
    counts = column.cast(pa.int32() if per_day == 1 else pa.int64()).to_pylist()
    text = ColumnText([])
    for row, count in enumerate(counts):
        day = None if count is None else count // per_day
        if day is not None and not _FIRST_DAY <= day <= _LAST_DAY:
            text.problems[row] = f"{day} days after 1970-01-01 is not a date between the years 1 and 9999"
            day = None
        text.values.append(None if day is None else (_EPOCH + timedelta(days=day)).isoformat())
    return text


def without_rows(column: pa.ChunkedArray, rows: dict[int, str]) -> pa.ChunkedArray:
    """The column with the values of `rows` set to null, so vectorised casts never see them."""
    if not rows:
        return column
    keep = pa.array([row not in rows for row in range(len(column))])
    return pc.if_else(keep, column, pa.scalar(None, column.type))


def number_text(value: int | float | Decimal) -> str:
    """Digits without exponent; a whole number has no fraction (12.0 -> '12'), so it fits an INTEGER.

    Exact for any size: no decimal context rounds the digits (`Decimal.normalize` would, past 28).
    """
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    digits = format(value, "f")
    if "." in digits:
        digits = digits.rstrip("0").rstrip(".")
    return "0" if digits in ("-0", "") else digits


def scalar_text(value: object) -> str | None:
    """A Python value from a typed file as canonical text; None and '' are absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # 'nan' and 'inf' fit no numeric type and are quarantined as such
    if isinstance(value, int | float | Decimal):
        return number_text(value)
    return str(value)


def parquet_raw_records(table: pa.Table) -> list[str]:
    """Each row as compact JSON, the raw text a quarantined row shows; never fails on a value Python cannot
    hold (such a value shows as pyarrow spells it)."""
    columns = [_raw_values(table.column(index)) for index in range(table.num_columns)]
    names = table.column_names
    return [
        _raw_json({name: values[row] for name, values in zip(names, columns, strict=True)})
        for row in range(table.num_rows)
    ]


def _raw_json(row: dict[str, object]) -> str:
    try:
        return json.dumps(row, separators=(",", ":"), ensure_ascii=False, default=str)
    except (ValueError, RecursionError):  # a value json cannot spell: show it as Python does
        return repr(row)


def _raw_values(column: pa.ChunkedArray) -> list[object]:
    """A column's values as Python objects, or pyarrow's spelling of those Python cannot hold."""
    try:
        return column.to_pylist()
    except (ValueError, OverflowError, pa.ArrowException):  # UnicodeDecodeError is a ValueError
        pass
    spell: Callable[[pa.Scalar], object] = _raw_spelling(column.type)
    return [spell(scalar) for chunk in column.iterchunks() for scalar in chunk]


def _raw_spelling(kind: pa.DataType) -> Callable[[pa.Scalar], object]:
    def spell(value: pa.Scalar) -> object:
        try:
            return value.as_py()
        except (ValueError, OverflowError, pa.ArrowException):
            pass
        if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
            data = value.cast(pa.large_binary()).as_py()
            return data.decode("utf-8", "backslashreplace")
        try:
            return pc.cast(value, pa.string()).as_py()  # out-of-range times: '<value out of range: …>'
        except pa.ArrowException:
            return f"<unreadable {kind}>"

    return spell
