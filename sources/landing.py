"""Reading landing files (CSV, JSON lines, Parquet) into text records and quarantined rows, keeping locators.

This layer only knows file structure: a CSV record with the wrong number of fields, a JSON line that is
not an object or a nested value is quarantined here with its line (or Parquet row) number and raw text.
Values become text in one canonical spelling whatever the format (timestamps `YYYY-MM-DD HH:MM:SS[.ffffff]`,
numbers without exponent, booleans `true`/`false`, an empty string is absent), so typing them happens in
one strict place, the warehouse (`sources.raw_tables`). Nothing read is dropped: every record ends up in
the batch's records or in its `quarantined` list (`sources.batches`).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sources.batches import QuarantinedRecord, SourceBatch
from sources.contracts import FileFormat, SourceContract

if TYPE_CHECKING:
    import _csv

_OTHER_DELIMITERS = (",", ";", "\t", "|")


class LandingFileError(Exception):
    """A whole file cannot be loaded (missing, undecodable, not Parquet, or missing required columns)."""


def read_landing_file(contract: SourceContract, path: Path, export_date: date) -> SourceBatch:
    """Parse one export file of `contract`; raise LandingFileError when the file as a whole is unusable."""
    if not path.is_file():
        raise LandingFileError(f"{contract.raw_table}: no export for {export_date} (expected file {path})")
    parsed = SourceBatch(contract, str(path), export_date, columns={c: [] for c in contract.column_names})
    if contract.format is FileFormat.PARQUET:
        _parse_parquet(path, parsed)
    elif contract.format is FileFormat.CSV:
        _parse_csv(decoded_text(path, contract.encoding), parsed)
    else:
        _parse_jsonl(decoded_text(path, contract.encoding), parsed)
    return parsed


def decoded_text(path: Path, encoding: str) -> str:
    """The file's text in its declared encoding; UTF-8 files may start with a byte-order mark."""
    data = path.read_bytes()
    bom = 0
    if codecs.lookup(encoding).name == "utf-8" and data.startswith(codecs.BOM_UTF8):
        bom = len(codecs.BOM_UTF8)
    try:
        return data[bom:].decode(encoding)
    except UnicodeDecodeError as exc:
        offset = bom + exc.start
        line = data.count(b"\n", 0, offset) + 1
        raise LandingFileError(
            f"{path}: not valid {encoding} at byte {offset} (line {line}): {exc.reason} "
            f"(byte {data[offset : offset + 1]!r}); was it written in another encoding?"
        ) from exc


def physical_lines(text: str) -> list[str]:
    """Lines split at '\\n' only, line ends kept (a Latin-1 0x85 or a form feed inside a value stays put)."""
    lines = text.split("\n")
    last = lines.pop()
    return [line + "\n" for line in lines] + ([last] if last else [])


def record_text(lines: Iterable[str]) -> str:
    return "".join(lines).rstrip("\r\n")


def _record_shape(parsed: SourceBatch, present: Iterable[str], hint: str = "") -> None:
    """Fail on missing required columns; otherwise note added and missing optional columns."""
    present = list(present)
    contract = parsed.contract
    missing_required = [c for c in contract.required_columns if c not in present]
    if missing_required:
        raise LandingFileError(
            f"{parsed.origin}: required columns missing: {', '.join(missing_required)}{hint}"
        )
    parsed.added_columns = tuple(name for name in present if name not in contract.column_names)
    parsed.missing_columns = tuple(name for name in contract.column_names if name not in present)


def _keep_record(parsed: SourceBatch, line_number: int, raw: str, values: Iterable[str | None]) -> None:
    """Add a readable record to the batch: its locator, its raw text, and its values in `parsed.columns` order.

    The one place every format keeps a record, so the locators, raw texts and columns stay aligned.
    """
    parsed.line_numbers.append(line_number)
    parsed.raw_records.append(raw)
    for column, value in zip(parsed.columns.values(), values, strict=True):
        column.append(value)


def _delimiter_hint(header: list[str], declared: str) -> str:
    """A hint when a one-field header would split on another common delimiter."""
    if len(header) != 1:
        return ""
    others = [d for d in _OTHER_DELIMITERS if d != declared and d in header[0]]
    return (
        f" (the header looks delimited by {others[0]!r}, the contract declares {declared!r})"
        if others
        else ""
    )


def csv_reader(lines: Iterable[str], contract: SourceContract) -> _csv._reader:
    """A reader in the contract's dialect; lenient about stray quotes, which the caller judges by field count."""
    return csv.reader(lines, delimiter=contract.delimiter, quotechar=contract.quote_char, strict=False)


def csv_records(
    lines: list[str], first: int, width: int, contract: SourceContract
) -> Iterator[tuple[int, int, list[str] | str]]:
    """(start, end, fields or a quarantine reason) per record of lines[first:], as line indexes [start, end).

    A record spanning several lines with the wrong number of fields means a quote opened and never
    closed on its line swallowed the lines after it: that one line is quarantined and reading resumes on
    the next, so an unclosed quote costs one row, not the rest of the file.
    """
    start = first
    while start < len(lines):
        base = start
        reader = csv_reader(itertools.islice(lines, start, None), contract)
        while True:
            try:
                record: list[str] | str = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                record = f"CSV: {exc}"
            end = base + reader.line_num
            if isinstance(record, list) and len(record) != width and end - start > 1:
                yield (
                    start,
                    start + 1,
                    f"unclosed quote: the field opened by a quote does not end on line {start + 1}",
                )
                start += 1
                break
            yield start, end, record
            start = end


def _parse_csv(text: str, parsed: SourceBatch) -> None:
    contract = parsed.contract
    lines = physical_lines(text)
    if not lines:
        raise LandingFileError(f"{parsed.origin}: empty file, not even a header")
    header = [h.strip() for h in next(csv_reader(lines[:1], contract), [])]
    _record_shape(parsed, header, _delimiter_hint(header, contract.delimiter))
    positions = {name: header.index(name) for name in contract.column_names if name in header}
    for start, end, record in csv_records(lines, 1, len(header), contract):
        raw = record_text(lines[start:end])
        if isinstance(record, str):
            parsed.quarantined.append(QuarantinedRecord(start + 1, raw, record))
            continue
        if not record:
            continue  # a blank line holds no record
        if len(record) != len(header):
            reason = f"expected {len(header)} fields, found {len(record)}"
            parsed.quarantined.append(QuarantinedRecord(start + 1, raw, reason))
            continue
        fields = (record[positions[name]] if name in positions else "" for name in parsed.columns)
        _keep_record(parsed, start + 1, raw, (field or None for field in fields))  # an empty field is absent


def _number_text(value: int | float | Decimal) -> str:
    """Digits without exponent; a whole number has no fraction (12.0 -> '12'), so it fits an INTEGER."""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)  # 'nan' and 'inf' fit no numeric type and are quarantined as such
        value = Decimal(repr(value))
    return format(value.normalize(), "f") if value.is_finite() else str(value)


def scalar_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return _number_text(value)
    return str(value)


def _parse_jsonl(text: str, parsed: SourceBatch) -> None:
    seen_keys: dict[str, None] = {}  # ordered by first appearance
    for line_number, line in enumerate(physical_lines(text), start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        try:
            document = json.loads(line, parse_float=Decimal)  # exact: 12.345 stays 12.345, never 12.3449...
        except json.JSONDecodeError as exc:
            parsed.quarantined.append(QuarantinedRecord(line_number, line, f"invalid JSON: {exc.msg}"))
            continue
        if not isinstance(document, dict):
            parsed.quarantined.append(QuarantinedRecord(line_number, line, "JSON line is not an object"))
            continue
        nested = [k for k, v in document.items() if isinstance(v, dict | list)]
        if nested:
            reason = f"fields hold nested values instead of scalars: {', '.join(nested)}"
            parsed.quarantined.append(QuarantinedRecord(line_number, line, reason))
            continue
        seen_keys.update(dict.fromkeys(document))
        _keep_record(parsed, line_number, line, (scalar_text(document.get(name)) for name in parsed.columns))
    # JSON lines have no header: a required column no line carries means the export changed shape.
    if parsed.line_numbers:
        _record_shape(parsed, seen_keys)


def _parquet_text(column: pa.ChunkedArray) -> list[str | None] | None:
    """A Parquet column's values as canonical text, or None when its type has no scalar text."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return _parquet_text(column.cast(kind.value_type))
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return [scalar_text(v) for v in column.to_pylist()]
    if pa.types.is_timestamp(kind):
        # A zoned column is read as the wall-clock time of its own zone, like the other formats' text.
        local = pc.local_timestamp(column) if kind.tz else column
        text = pc.cast(local.cast(pa.timestamp("us")), pa.string())
        return pc.replace_substring_regex(text, r"\.0+$", "").to_pylist()
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return [v or None for v in column.to_pylist()]
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind) or pa.types.is_date(kind):
        return pc.cast(column, pa.string()).to_pylist()
    return None


def _parse_parquet(path: Path, parsed: SourceBatch) -> None:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise LandingFileError(f"{path}: not a readable Parquet file: {exc}") from exc
    _record_shape(parsed, table.column_names)
    texts: dict[str, list[str | None]] = {}
    unreadable: dict[str, pa.DataType] = {}  # contract columns whose Parquet type has no scalar text
    for name in parsed.contract.column_names:
        try:
            text = (
                _parquet_text(table.column(name)) if name in table.column_names else [None] * table.num_rows
            )
        except pa.ArrowInvalid as exc:  # e.g. nanoseconds, which no contract timestamp can hold
            raise LandingFileError(
                f"{path}: column {name} cannot be read without changing it: {exc}"
            ) from exc
        if text is None:
            unreadable[name] = table.column(name).type
            text = [None] * table.num_rows
        texts[name] = text
    for row, record in enumerate(table.to_pylist()):
        raw = json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=str)
        held = [f"{name} ({kind})" for name, kind in unreadable.items() if record[name] is not None]
        if held:
            reason = f"fields hold values that are not scalars: {', '.join(held)}"
            parsed.quarantined.append(QuarantinedRecord(row + 1, raw, reason))
            continue
        _keep_record(parsed, row + 1, raw, (texts[name][row] for name in parsed.columns))


def export_day_fingerprints(landing_dir: Path, contracts: tuple[SourceContract, ...]) -> dict[str, str]:
    """A short fingerprint per export day of the files present (name, size, modification time).

    Comparing two of these tells which days' exports arrived or changed, without reading any file.
    """
    entries: dict[str, list[str]] = {}
    for contract in contracts:
        folder = landing_dir / contract.system / contract.name
        if not folder.is_dir():
            continue
        for path in folder.glob(f"*.{contract.format.value}"):
            try:
                day = date.fromisoformat(path.stem).isoformat()
            except ValueError:
                continue  # not an export file of this layout
            stat = path.stat()
            entries.setdefault(day, []).append(f"{contract.raw_table}:{stat.st_size}:{stat.st_mtime_ns}")
    return {
        day: hashlib.sha256("|".join(sorted(parts)).encode()).hexdigest()[:16]
        for day, parts in entries.items()
    }


def changed_days(previous: dict[str, str], current: dict[str, str]) -> list[date]:
    """Export days whose files are new or changed since `previous`, in date order."""
    return sorted(date.fromisoformat(day) for day, print_ in current.items() if previous.get(day) != print_)
