"""Reading landing files into text records and quarantined rows, keeping the file's line numbers.

This layer only knows file structure: a CSV record with the wrong number of fields or a JSON line that
is not an object is quarantined here with its line number and raw text. Typing the values happens in
the warehouse (`sources.raw_tables`), where it is set-based. Nothing read is dropped: every record ends
up in the batch's records or in its `quarantined` list (`sources.batches`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date
from pathlib import Path

from sources.batches import QuarantinedRecord, SourceBatch
from sources.contracts import FileFormat, SourceContract


class LandingFileError(Exception):
    """A whole file cannot be loaded (missing, unreadable, or missing required columns)."""


def read_landing_file(contract: SourceContract, path: Path, export_date: date) -> SourceBatch:
    """Parse one export file of `contract`; raise LandingFileError when the file as a whole is unusable."""
    if not path.is_file():
        raise LandingFileError(f"{contract.raw_table}: no export for {export_date} (expected file {path})")
    encoding = "utf-8-sig" if contract.encoding.lower().replace("_", "-") == "utf-8" else contract.encoding
    try:
        text = path.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise LandingFileError(f"{path}: not readable as {contract.encoding}: {exc}") from exc
    parsed = SourceBatch(contract, str(path), export_date, columns={c: [] for c in contract.column_names})
    if contract.format is FileFormat.CSV:
        _parse_csv(text, parsed)
    else:
        _parse_jsonl(text, parsed)
    return parsed


def _missing_columns_error(parsed: SourceBatch, present: set[str]) -> LandingFileError | None:
    missing = [c for c in parsed.contract.required_columns if c not in present]
    if not missing:
        return None
    return LandingFileError(f"{parsed.origin}: required columns missing: {', '.join(missing)}")


def _parse_csv(text: str, parsed: SourceBatch) -> None:
    physical_lines = text.splitlines()
    reader = csv.reader(io.StringIO(text), delimiter=parsed.contract.delimiter, strict=False)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise LandingFileError(f"{parsed.origin}: empty file, not even a header") from None
    if error := _missing_columns_error(parsed, set(header)):
        raise error
    parsed.added_columns = tuple(h for h in header if h not in parsed.contract.column_names)
    positions = {name: header.index(name) for name in parsed.contract.column_names if name in header}
    previous_end = reader.line_num
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            start = previous_end + 1
            parsed.quarantined.append(
                QuarantinedRecord(
                    start, "\n".join(physical_lines[start - 1 : reader.line_num]), f"CSV: {exc}"
                )
            )
            previous_end = reader.line_num
            continue
        start, previous_end = previous_end + 1, reader.line_num
        if not record:
            continue  # a blank line holds no record
        raw = "\n".join(physical_lines[start - 1 : previous_end])
        if len(record) != len(header):
            parsed.quarantined.append(
                QuarantinedRecord(start, raw, f"expected {len(header)} fields, found {len(record)}")
            )
            continue
        parsed.line_numbers.append(start)
        parsed.raw_records.append(raw)
        for name, values in parsed.columns.items():
            value = record[positions[name]] if name in positions else None
            values.append(value if value != "" else None)


def _scalar_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parse_jsonl(text: str, parsed: SourceBatch) -> None:
    seen_keys: set[str] = set()
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
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
        seen_keys.update(document)
        parsed.line_numbers.append(line_number)
        parsed.raw_records.append(line)
        for name, values in parsed.columns.items():
            values.append(_scalar_text(document.get(name)))
    # JSON lines have no header: a required column no line carries means the export changed shape.
    if parsed.line_numbers and (error := _missing_columns_error(parsed, seen_keys)):
        raise error
    parsed.added_columns = tuple(sorted(seen_keys - set(parsed.contract.column_names)))


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
