"""CSV landing files: records as RFC 4180 delimits them, read strictly, each one loaded or quarantined.

A record starts at the start of a line. A field starting with the quote character is quoted: it may hold
the delimiter, line ends and the quote doubled, and closes at a quote followed by the delimiter or a line
end. Any other field ends at the delimiter or a line end and holds no quote. A record ends at a line end
outside a quoted field (LF, CRLF or a lone CR, `sources.landing_text.LINE_END`); an empty line holds no
record. A quoted field that spans lines and does not close that way (the file ends first, or text follows
its closing quote) is taken as an unclosed quote: its record ends with the line the quote opened on, so a
stray quote costs that record, not the ones after it. Nothing is mended: a record that breaks these rules
is quarantined whole with the reason, never read as some other text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sources.batches import LINE_NUMBER, RAW_RECORD, SourceBatch
from sources.landing_text import (
    FIELD_LIMIT_BYTES,
    LINE_END,
    RECORD_LIMIT_BYTES,
    LandingFileError,
    shown,
    too_big,
)

_OTHER_DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class CsvRecord:
    """One record: where it starts, its text as sent, its fields, and what makes them untrustworthy.

    `problem` is '' for a well-formed record; otherwise a reason in which `{field}` stands for the field
    it concerns (`field_index`, 0-based), named once the caller knows the header. `unclosed` tells that a
    quoted field of it was still open where the text ended.
    """

    line_number: int
    raw: str
    fields: list[str]
    problem: str = ""
    field_index: int = 0
    unclosed: bool = False

    def reason(self, names: Sequence[str] = ()) -> str:
        """`problem` with its field named: `field 6 (store_id)`, or `field 6` beyond the header."""
        number = self.field_index + 1
        label = f"field {number}"
        if self.field_index < len(names):
            label += f" ({shown(names[self.field_index])})"
        return self.problem.replace("{field}", label)


@dataclass(frozen=True)
class _Dialect:
    delimiter: str
    quote: str
    field_end: re.Pattern[str]  # the delimiter or a line end, whichever comes first


def _dialect(delimiter: str, quote: str) -> _Dialect:
    return _Dialect(delimiter, quote, re.compile(f"[{re.escape(delimiter)}\r\n]"))


@dataclass
class _Scan:
    """What reading fields from a position found: the fields, where the record's text ends, the first
    problem, and (for a quoted field that spans lines and breaks) the line end to cut the record at."""

    fields: list[str]
    end: int = 0
    problem: str = ""
    field_index: int = 0
    cut_at: int | None = None
    unclosed: bool = False

    def fail(self, problem: str) -> None:
        if not self.problem:
            self.problem, self.field_index = problem, len(self.fields)


def csv_records(text: str, delimiter: str, quote_char: str) -> Iterator[CsvRecord]:
    """Every record of `text` in the dialect, the header included; blank lines hold none."""
    dialect = _dialect(delimiter, quote_char)
    position, line = 0, 1
    while position < len(text):
        record, following = _record_at(text, position, line, dialect)
        if record is not None:
            yield record
        line += _line_ends_between(text, position, following)
        position = following


def _line_ends_between(text: str, start: int, stop: int) -> int:
    return sum(1 for _ in LINE_END.finditer(text, start, stop))


def _record_at(text: str, start: int, line: int, dialect: _Dialect) -> tuple[CsvRecord | None, int]:
    """The record starting at `start` (None for a blank line), and where the next one starts."""
    line_end = LINE_END.search(text, start)
    end_of_line = line_end.start() if line_end else len(text)
    if end_of_line == start:
        return None, line_end.end() if line_end else len(text)
    first_line = text[start:end_of_line]
    if dialect.quote not in first_line:  # no quote: the record is this line (most records, read fast)
        scan = _Scan(first_line.split(dialect.delimiter), end_of_line)
    else:
        scan = _scan(text, start, len(text), dialect)
        if scan.cut_at is not None:
            scan = _scan(text, start, scan.cut_at, dialect)
    raw = text[start : scan.end]
    following = _after_line_end(text, scan.end)
    oversize = too_big(raw, RECORD_LIMIT_BYTES, "record")
    if oversize:
        return CsvRecord(line, raw, [], f"record too long: {oversize}"), following
    return CsvRecord(line, raw, scan.fields, scan.problem, scan.field_index, scan.unclosed), following


def _after_line_end(text: str, end: int) -> int:
    """Where the text after the line end at `end` starts (`end` itself at the end of the text)."""
    if text.startswith("\r\n", end):
        return end + 2
    return end + 1 if end < len(text) else end


def _scan(text: str, start: int, stop: int, dialect: _Dialect) -> _Scan:
    """Read fields from `start` until a line end outside quotes or `stop`."""
    scan = _Scan([])
    position = start
    while True:
        if position < stop and text[position] == dialect.quote:
            position = _quoted_field(text, position, stop, dialect, scan)
        else:
            position = _plain_field(text, position, stop, dialect, scan)
        if position >= stop or text[position] != dialect.delimiter or scan.cut_at is not None:
            scan.end = min(position, stop)
            return scan
        position += 1


def _plain_field(text: str, start: int, stop: int, dialect: _Dialect, scan: _Scan) -> int:
    """An unquoted field from `start`; returns where it ends (at the delimiter, a line end or `stop`)."""
    found = dialect.field_end.search(text, start, stop)
    end = found.start() if found else stop
    value = text[start:end]
    if dialect.quote in value:
        scan.fail("malformed quoting: {field} has a quote inside a value that does not start with one")
    scan.fields.append(value)
    return end


def _quoted_field(text: str, start: int, stop: int, dialect: _Dialect, scan: _Scan) -> int:
    """A quoted field opening at `start`; returns where it ends. A broken one spanning lines sets `cut_at`."""
    quote = dialect.quote
    parts: list[str] = []
    position = start + 1
    while True:
        closing = text.find(quote, position, stop)
        if closing < 0:
            parts.append(text[position:stop])
            scan.fail("unclosed quote: {field} opens a quote that does not close")
            scan.unclosed = True
            _cut_if_spanning(text, start, stop, scan)
            scan.fields.append("".join(parts))
            return stop
        parts.append(text[position:closing])
        if closing + 1 < stop and text.startswith(quote, closing + 1):
            parts.append(quote)  # a doubled quote is one quote of the value
            position = closing + 2
            continue
        break
    after = closing + 1
    if after >= stop or text[after] in "\r\n" or text[after] == dialect.delimiter:
        scan.fields.append("".join(parts))
        return after
    if text[closing - 1] == "\\" and closing - 1 > start:
        scan.fail(
            "malformed quoting: {field} escapes a quote with a backslash, which this dialect does not "
            "declare (a quote inside a quoted value is doubled)"
        )
    else:
        scan.fail("malformed quoting: {field} has text after its closing quote")
    scan.fields.append("".join(parts))
    if _cut_if_spanning(text, start, closing, scan):
        return after
    found = dialect.field_end.search(text, after, stop)  # the rest of the field, to find where it ends
    return found.start() if found else stop


def _cut_if_spanning(text: str, opening: int, stop: int, scan: _Scan) -> bool:
    """A broken quoted field spanning a line end was never meant to: cut the record at that line end."""
    line_end = LINE_END.search(text, opening, stop)
    if line_end is None:
        return False
    scan.cut_at = line_end.start()
    return True


def parse_csv(text: str, batch: SourceBatch) -> None:
    """Read a CSV export into `batch`: the header decides the columns; each record is kept or quarantined."""
    if _read_by_lines(text, batch):
        return
    contract = batch.contract
    records = csv_records(text, contract.delimiter, contract.quote_char)
    header = _header(next(records, None), batch)
    for record in records:
        _take(record, header, batch)


def _take(record: CsvRecord, header: list[str], batch: SourceBatch) -> None:
    """Keep or quarantine one record read under `header`."""
    if record.problem:
        batch.quarantine(record.line_number, record.raw, record.reason(header))
    elif len(record.fields) != len(header):
        reason = f"expected {len(header)} fields, found {len(record.fields)}"
        batch.quarantine(record.line_number, record.raw, reason)
    else:
        values = [record.fields[header.index(name)] if name in header else "" for name in batch.columns]
        oversized = "; ".join(_oversized_fields(batch.columns, values)) if _may_be_big(record) else ""
        if oversized:
            batch.quarantine(record.line_number, record.raw, oversized)
        else:
            batch.keep(record.line_number, record.raw, (v or None for v in values))  # empty is absent


def _read_by_lines(text: str, batch: SourceBatch) -> bool:
    """Read an export whose records are its lines, as `parse_csv` would record by record; False (with
    `batch` untouched but for its shape) when they may not be, and it must be read record by record.

    A text without CR and without a line longer than the field limit has a record per non-empty line,
    unless a quoted field spans a line end. A line holding no quote character splits at every delimiter
    and nothing but its field count can be wrong: Arrow splits all such lines at once, without a Python
    object per value, which is where the time of a large load went. A line with quotes is read on its
    own as a record; if a quoted field of it does not close on it (where the whole text might close it
    on a later line), the whole text is read record by record. Either way what is kept, quarantined and
    why is the same, which tests/sources/test_plain_csv.py checks on random texts.
    """
    contract = batch.contract
    if "\r" in text:
        return False
    lines = pc.split_pattern(pa.array([text], pa.large_string()), "\n").flatten()
    lengths = pc.binary_length(lines)
    if pc.max(lengths).as_py() * 4 > FIELD_LIMIT_BYTES:  # a value might pass the limit
        return False
    numbers = pa.array(np.flatnonzero(pc.greater(lengths, 0).to_numpy(zero_copy_only=False)) + 1)
    lines = pc.take(lines, pc.subtract(numbers, 1)).cast(pa.string())
    if not len(lines):
        _header(None, batch)
    first = lines[0].as_py()
    if contract.quote_char in first:
        return False
    header = _header(CsvRecord(numbers[0].as_py(), first, first.split(contract.delimiter)), batch)
    lines, numbers = lines[1:], numbers[1:]
    quoted = pc.match_substring(lines, contract.quote_char)
    dialect = _dialect(contract.delimiter, contract.quote_char)
    with_quotes = [
        _record_at(line, 0, number, dialect)[0]
        for number, line in zip(
            numbers.filter(quoted).to_pylist(), lines.filter(quoted).to_pylist(), strict=True
        )
    ]
    if any(record is None or record.unclosed for record in with_quotes):
        return False
    for record in with_quotes:
        _take(record, header, batch)  # type: ignore[arg-type]
    plain = pc.invert(quoted)
    _take_plain_lines(lines.filter(plain), numbers.filter(plain), header, batch)
    return True


def _take_plain_lines(lines: pa.Array, numbers: pa.Array, header: list[str], batch: SourceBatch) -> None:
    """Keep or quarantine lines without quotes, each a record, as a block."""
    fields = pc.split_pattern(lines, batch.contract.delimiter)
    counts = pc.list_value_length(fields)
    complete = pc.equal(counts, len(header))
    incomplete = pc.invert(complete)
    for number, raw, count in zip(
        numbers.filter(incomplete).to_pylist(),
        lines.filter(incomplete).to_pylist(),
        counts.filter(incomplete).to_pylist(),
        strict=True,
    ):
        batch.quarantine(number, raw, f"expected {len(header)} fields, found {count}")
    fields = fields.filter(complete)
    columns = {}
    for name in batch.columns:
        if name in header:
            values = pc.list_element(fields, header.index(name))
            columns[name] = pc.if_else(
                pc.equal(values, ""), pa.scalar(None, pa.string()), values
            )  # empty is absent
        else:
            columns[name] = pa.nulls(len(fields), pa.string())
    batch.keep_table(
        pa.table(
            {
                **columns,
                LINE_NUMBER: numbers.filter(complete).cast(pa.int64()),
                RAW_RECORD: lines.filter(complete),
            }
        )
    )


def _may_be_big(record: CsvRecord) -> bool:
    """Whether a field of the record could pass the field limit (most records are far too short to)."""
    return len(record.raw) * 4 > FIELD_LIMIT_BYTES


def _oversized_fields(names: Iterable[str], values: Iterable[str]) -> Iterator[str]:
    for name, value in zip(names, values, strict=True):
        problem = too_big(value)
        if problem:
            yield f"field {name}: {problem}"


def _header(record: CsvRecord | None, batch: SourceBatch) -> list[str]:
    """The column names (trimmed) of the header record; a header that cannot be trusted fails the file."""
    origin = batch.origin
    if record is None:
        raise LandingFileError(f"{origin}: empty file, not even a header")
    where = f"{origin}: line {record.line_number} (the header)"
    if record.problem:
        raise LandingFileError(f"{where}: {record.reason()}")
    names = [name.strip() for name in record.fields]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise LandingFileError(
                f"{where} names column {shown(name)!r} twice (fields {names.index(name) + 1} and "
                f"{index + 1}); which one holds the values cannot be told"
            )
    missing = batch.compare_shape(names)
    if missing:
        raise LandingFileError(
            f"{origin}: required columns missing: {', '.join(missing)}"
            f"{_delimiter_hint(names, batch.contract.delimiter)}"
        )
    return names


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
