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
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sources.batches import LINE_NUMBER, RAW_RECORD, SourceBatch
from sources.landing_text import FIELD_LIMIT_BYTES, LandingFileError, shown, too_big

_EPOCH = date(1970, 1, 1)
# A day inside each end, so a zone's offset cannot carry a wall-clock time past year 1 or 9999.
_FIRST_DAY = (date(1, 1, 2) - _EPOCH).days
_LAST_DAY = (date(9999, 12, 30) - _EPOCH).days
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_PER_DAY_DATE64 = 86_400_000
_INT64 = (-(2**63), 2**63 - 1)
# The days a Python date holds: a time outside them has no Python value, and its raw text is pyarrow's.
_PYTHON_DAYS = ((date.min - _EPOCH).days, (date.max - _EPOCH).days)


@dataclass
class ColumnText:
    """A column as canonical text per row, and the rows whose value has none (row index -> why).

    Read as a block (`_text_block`), the common types' values are an Arrow array, null where absent or a
    problem; the others' a list, as `column_text` gives them.
    """

    values: list[str | None] | pa.ChunkedArray
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
    if _read_as_block(path, table, batch):
        return
    texts, not_scalar = _contract_texts(path, table, batch, column_text)
    for row, raw in enumerate(parquet_raw_records(table)):
        reason = _row_reason(row, texts, not_scalar)
        if reason:
            batch.quarantine(row + 1, raw, reason)
        else:
            batch.keep(row + 1, raw, (texts[name].values[row] for name in batch.columns))


def _contract_texts(
    path: Path, table: pa.Table, batch: SourceBatch, convert: Callable[[pa.ChunkedArray], ColumnText | None]
) -> tuple[dict[str, ColumnText], dict[str, pa.DataType]]:
    """The text of every contract column by `convert`, and the columns whose type has no scalar text."""
    texts: dict[str, ColumnText] = {}
    not_scalar: dict[str, pa.DataType] = {}
    for name in batch.columns:
        if name not in table.column_names:
            texts[name] = ColumnText([None] * table.num_rows)
            continue
        column = table.column(name)
        try:
            text = convert(column)
        except (pa.ArrowException, ValueError, OverflowError) as exc:  # a type we read but cannot convert
            raise LandingFileError(f"{path}: column {name} ({column.type}) cannot be read: {exc}") from exc
        if text is None:
            not_scalar[name] = column.type
            text = ColumnText([None] * table.num_rows, _held_rows(column))
        texts[name] = text
    return texts, not_scalar


def _read_as_block(path: Path, table: pa.Table, batch: SourceBatch) -> bool:
    """Read the rows as `parse_parquet` would one by one, but a column at a time; False (with `batch`
    untouched but for its shape) when a column holds nested values (or an extension type's), whose raw
    JSON only the row's own `json.dumps` spells exactly.

    A row per Python dict and a JSON text per row was where the time of a large load went: here the
    common types become canonical text and raw JSON with Arrow kernels, the rows with a problem are
    quarantined one by one and the others kept as one block. What is kept, quarantined and why is the
    same, which tests/sources/test_parquet_blocks.py checks on random tables.
    """
    raw = _raw_block(table)
    if raw is None:
        return False
    texts, not_scalar = _contract_texts(path, table, batch, _text_block)
    problem_rows = sorted(set().union(*(text.problems for text in texts.values())))
    for row, raw_record in zip(problem_rows, _at(raw, problem_rows), strict=True):
        batch.quarantine(row + 1, raw_record, _row_reason(row, texts, not_scalar))
    records = pa.table(
        {
            **{name: _arrow_text(texts[name].values) for name in batch.columns},
            LINE_NUMBER: pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64)),
            RAW_RECORD: raw,
        }
    )
    if problem_rows:
        kept = np.ones(table.num_rows, dtype=bool)
        kept[problem_rows] = False
        records = records.filter(pa.array(kept))
    batch.keep_table(records)
    return True


def _arrow_text(values: list[str | None] | pa.ChunkedArray) -> pa.ChunkedArray:
    return pa.chunked_array([pa.array(values, pa.string())]) if isinstance(values, list) else values


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
    if _is_text(kind):
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
    problems: dict[int, str] = {}
    for row, count in enumerate(column.cast(pa.int64()).to_pylist()):
        problem = "" if count is None else _timestamp_problem(count, column.type.unit)
        if problem:
            problems[row] = problem
    return ColumnText(_timestamp_spelling(column, problems).to_pylist(), problems)


def _timestamp_bounds(unit: str) -> tuple[int, int]:
    """The first and last count of `unit` after the epoch that has a TIMESTAMP text."""
    per_day = 86_400 * _PER_SECOND[unit]
    return _FIRST_DAY * per_day, _LAST_DAY * per_day


def _timestamp_problem(count: int, unit: str) -> str:
    """Why `count` `unit` after 1970-01-01 has no TIMESTAMP text, or ''."""
    first, last = _timestamp_bounds(unit)
    if not first <= count <= last:
        return (
            f"{count} {unit} after 1970-01-01 is not a time between the years 1 and 9999 "
            "(a column written in another unit?)"
        )
    if unit == "ns" and count % 1000:
        return f"{count} ns has digits finer than the microseconds a TIMESTAMP holds"
    return ""


def _timestamp_spelling(column: pa.ChunkedArray, problems: dict[int, str]) -> pa.ChunkedArray:
    """The canonical text of a timestamp column, null for the rows of `problems`."""
    readable = without_rows(column, problems)
    local = pc.local_timestamp(readable) if column.type.tz else readable
    as_text = pc.cast(local.cast(pa.timestamp("us"), safe=False), pa.string())
    return pc.replace_substring(as_text, ".000000", "")  # the fraction, always six digits


def _date_text(column: pa.ChunkedArray) -> ColumnText:
    """`YYYY-MM-DD`; a date outside the years 1 to 9999 is its row's problem."""
    per_day = 1 if pa.types.is_date32(column.type) else _PER_DAY_DATE64
    counts = column.cast(pa.int32() if per_day == 1 else pa.int64()).to_pylist()
    text = ColumnText([])
    for row, count in enumerate(counts):
        day = None if count is None else count // per_day
        if day is not None and not _FIRST_DAY <= day <= _LAST_DAY:
            text.problems[row] = _date_problem(day)
            day = None
        text.values.append(None if day is None else (_EPOCH + timedelta(days=day)).isoformat())
    return text


def _date_problem(day: int) -> str:
    return f"{day} days after 1970-01-01 is not a date between the years 1 and 9999"


def without_rows(column: pa.ChunkedArray, rows: dict[int, str]) -> pa.ChunkedArray:
    """The column with the values of `rows` set to null, so vectorised casts never see them."""
    if not rows:
        return column
    keep = np.ones(len(column), dtype=bool)
    keep[list(rows)] = False
    return pc.if_else(pa.array(keep), column, pa.scalar(None, column.type))


def _text_block(column: pa.ChunkedArray) -> ColumnText | None:
    """`column_text` with Arrow kernels for the common types: the values an Arrow array, and the problems
    found without a Python object per value; the other types as `column_text` reads them."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return _text_block(column.cast(kind.value_type))
    if _is_text(kind):
        return _utf8_block(column)
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        return ColumnText(pc.cast(column, pa.string()))
    if pa.types.is_decimal(kind):
        return _decimal_block(column)
    if pa.types.is_timestamp(kind):
        return _timestamp_block(column)
    if pa.types.is_date32(kind):
        return _date_block(column)
    return column_text(column)


def _utf8_block(column: pa.ChunkedArray) -> ColumnText:
    values = _utf8(column)
    if values is None:
        return _utf8_text(column)  # names the offending byte of each row
    oversize = _rows_where(pc.greater(pc.binary_length(values), FIELD_LIMIT_BYTES))
    problems = {row: too_big(value) for row, value in zip(oversize, _at(values, oversize), strict=True)}
    return ColumnText(pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values), problems)


def _decimal_block(column: pa.ChunkedArray) -> ColumnText | None:
    text = pc.cast(column, pa.string())
    if pc.any(pc.match_substring(text, "E")).as_py():  # Arrow's exponent form: spelled value by value
        return column_text(column)
    # An Arrow decimal has no negative zero: stripping the fraction's zeros is all number_text does here.
    return ColumnText(pc.replace_substring_regex(text, r"\.0*$|(\.\d*[1-9])0+$", r"\1"))


def _timestamp_block(column: pa.ChunkedArray) -> ColumnText:
    unit = column.type.unit
    counts = column.cast(pa.int64())
    first, last = _timestamp_bounds(unit)  # nanoseconds hold no count beyond these: no int64 does
    suspect = pc.or_(pc.less(counts, max(first, _INT64[0])), pc.greater(counts, min(last, _INT64[1])))
    if unit == "ns":
        finer = pc.not_equal(pc.subtract(counts, pc.multiply(pc.divide(counts, 1000), 1000)), 0)
        suspect = pc.or_(suspect, finer)
    rows = _rows_where(suspect)
    problems = {
        row: _timestamp_problem(count, unit) for row, count in zip(rows, _at(counts, rows), strict=True)
    }
    return ColumnText(_timestamp_spelling(column, problems), problems)


def _date_block(column: pa.ChunkedArray) -> ColumnText:
    days = column.cast(pa.int32())
    rows = _rows_where(pc.or_(pc.less(days, _FIRST_DAY), pc.greater(days, _LAST_DAY)))
    problems = {row: _date_problem(day) for row, day in zip(rows, _at(days, rows), strict=True)}
    return ColumnText(pc.cast(without_rows(column, problems), pa.string()), problems)


def _rows_where(mask: pa.ChunkedArray) -> list[int]:
    """The row indexes where `mask` is true (null is not)."""
    return np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False)).tolist()


def _at(values: pa.ChunkedArray, rows: list[int]) -> list[Any]:
    return values.take(pa.array(rows, pa.int64())).to_pylist()


def _utf8(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """A text column as `string`, or None when a value is not UTF-8 (which only Python reads, per value)."""
    values = column if column.type == pa.string() else column.cast(pa.string())
    try:
        values.validate(full=True)
    except pa.ArrowInvalid:
        return None
    return values


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
        return _dumps(row)
    except (ValueError, RecursionError):  # a value json cannot spell: show it as Python does
        return repr(row)


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _raw_block(table: pa.Table) -> pa.ChunkedArray | None:
    """`parquet_raw_records` built a column at a time (a row's JSON is its members' JSON joined), or None
    when a column holds nested values, whose JSON only the row's own `json.dumps` spells exactly (it
    falls back to `repr` for the whole row when they nest too deep)."""
    pieces: list[object] = []
    for index, name in enumerate(table.column_names):
        values = _json_block(table.column(index))
        if values is None:
            return None
        pieces += [("," if pieces else "{") + _dumps(name) + ":", values]
    if not pieces:
        return pa.chunked_array([pa.array(["{}"] * table.num_rows, pa.string())])
    return pc.binary_join_element_wise(*pieces, "}", "")


def _json_block(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """The JSON `_dumps` gives each of the column's `_raw_values`: from Arrow kernels for the common types
    when every value has a Python value, else value by value; None for nested values."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return _json_block(column.cast(kind.value_type))
    if pa.types.is_nested(kind) or isinstance(kind, pa.ExtensionType):
        return None
    text = _utf8(column) if _is_text(kind) else None
    if text is not None:
        return _json_strings(text)
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        return pc.fill_null(pc.cast(column, pa.string()), "null")
    if pa.types.is_decimal(kind):  # a Decimal is spelled by `default=str`, as Arrow spells it
        return _quoted(pc.cast(column, pa.string()))
    if pa.types.is_timestamp(kind) and not kind.tz and kind.unit != "ns" and _python_times(column):
        return _quoted(_timestamp_spelling(column, {}))  # str(datetime) drops only zero microseconds
    if pa.types.is_date32(kind):  # a date Python cannot hold shows as Arrow spells it, like the others
        return _quoted(pc.cast(column, pa.string()))
    return pa.chunked_array([pa.array([_dumps(value) for value in _raw_values(column)], pa.string())])


def _json_strings(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """JSON strings: quoted by Arrow where json.dumps escapes nothing, by json.dumps where it would."""
    escaped = pc.fill_null(pc.match_substring_regex(text, r'["\\\x00-\x1f]'), False)
    rows = _rows_where(escaped)
    if not rows:
        return _quoted(text)
    spelled = pa.array([_dumps(value) for value in _at(text, rows)], pa.string())
    return pc.replace_with_mask(_quoted(text).combine_chunks(), escaped.combine_chunks(), spelled)


def _quoted(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """JSON strings of texts needing no escapes; null as `null`."""
    return pc.fill_null(pc.binary_join_element_wise('"', text, '"', ""), "null")


def _python_times(column: pa.ChunkedArray) -> bool:
    """Whether every value of a timestamp column is a Python datetime (years 1 to 9999)."""
    per_day = 86_400 * _PER_SECOND[column.type.unit]
    low, high = (value.as_py() for value in pc.min_max(column.cast(pa.int64())).values())
    return low is None or (_PYTHON_DAYS[0] * per_day <= low and high < (_PYTHON_DAYS[1] + 1) * per_day)


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


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
        if _is_text(kind):
            data = value.cast(pa.large_binary()).as_py()
            return data.decode("utf-8", "backslashreplace")
        try:
            return pc.cast(value, pa.string()).as_py()  # out-of-range times: '<value out of range: …>'
        except pa.ArrowException:
            return f"<unreadable {kind}>"

    return spell
