"""Bring your own data: a flat transactions file (one row per order, any date range) laid out as the daily
landing files of the `orders` source, so the pipeline loads it like any export.

`python -m sources.transactions FILE [--from DAY] [--through DAY]` reads the file as the configuration's
`transactions` section says (see docs/examples/cdnow.yml). Values stay text exactly as sent (`00004` is not `4`); only the timestamp
is read, because it decides the day a row lands on. Validating amounts and ids is left to the loader
(`sources.raw_tables`), which quarantines a bad value naming its field, so the rules live in one place.

An import is the complete record of every day from its first to its last order (or the days `--from`
and `--through` declare, when quiet days lie at its edges): each of those days' files is replaced whole (a day without orders by a header-only file, as the loader needs a file for
every day); days outside that range are left alone. A file whose bytes would not change is not touched,
so its modification time stays and the landing sensor sees nothing new.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from sources.config import (
    CONFIG_ENV,
    Calendar,
    ConfigError,
    TransactionColumns,
    TransactionsFile,
    load_config,
)
from sources.contracts import ORDERS
from sources.landing_csv import CsvRecord, csv_records
from sources.landing_parquet import column_text, parquet_raw_records, read_parquet_table, without_rows
from sources.landing_text import LandingFileError, read_text, text_lines

EXAMPLE_CONFIG = "docs/examples/cdnow.yml"
REJECTS_HEADER = ("line_number", "raw_record", "reason")
_WHITESPACE = re.compile(r"[ \t]+")

# A cell as read: text as sent, or a datetime / date when a Parquet file typed the column.
Cell = str | date | None
# Inclusive first and last day an import declares it covers; None leaves that end to the orders.
DayRange = tuple[date | None, date | None]


class TransactionsFileError(ValueError):
    """The file as a whole cannot be read: nothing was written. The message names the file (and line)."""


@dataclass(frozen=True)
class RejectedRow:
    """A row that could not be placed on a day; it goes to the rejects file, never silently away."""

    line_number: int  # the file's line (its row number for Parquet)
    raw_record: str
    reason: str


@dataclass(frozen=True)
class ImportResult:
    """What one import did: rows_read == rows_written + rows_rejected, always (a blank line is no row)."""

    source_file: Path
    orders_dir: Path
    rows_read: int
    rows_written: int
    rejected: tuple[RejectedRow, ...]
    rejects_file: Path | None  # None when nothing was rejected
    first_day: date | None  # None when no row could be placed on a day
    last_day: date | None
    days_written: tuple[date, ...]
    days_unchanged: tuple[date, ...]
    quiet_days: tuple[date, ...]  # days in the range without orders (header-only files)
    days_outside_calendar: tuple[date, ...]
    calendar: Calendar

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected)

    @property
    def inside_calendar(self) -> bool:
        return not self.days_outside_calendar

    def report(self) -> str:
        """A few lines for the person who ran the import; the rejects file has the details."""
        rejected = f"{self.rows_rejected:,} rejected"
        if self.rejects_file is not None:
            rejected += f" (lines and reasons in {self.rejects_file})"
        lines = [
            f"{self.source_file} -> {self.orders_dir}",
            f"rows: {self.rows_read:,} read, {self.rows_written:,} written to day files, {rejected}",
        ]
        if self.first_day is None or self.last_day is None:
            lines.append("days: none (no row could be placed on a day); nothing written")
            return "\n".join(lines)
        days = len(self.days_written) + len(self.days_unchanged)
        lines.append(
            f"days: {days:,} from {self.first_day} to {self.last_day} ({len(self.quiet_days):,} without "
            f"orders): {len(self.days_written):,} written, {len(self.days_unchanged):,} unchanged"
        )
        window = f"[{self.calendar.start_date}, {self.calendar.end_date or 'open'})"
        if self.inside_calendar:
            lines.append(f"calendar: every day is inside {window}")
        else:
            lines.append(
                f"calendar: {len(self.days_outside_calendar):,} days fall outside {window}: "
                f"{_day_ranges(self.days_outside_calendar)}; their files are written but will not load "
                f"until the calendar is widened (calendar.start_date / calendar.end_date)"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class _SourceRow:
    line_number: int
    raw_record: str
    cells: dict[str, Cell]  # mapped field (customer_key, ordered_at, ...) -> its cell


@dataclass(frozen=True)
class _Order:
    customer_key: str
    ordered_at: datetime  # local wall-clock time in the calendar's zone, naive
    amount: str
    order_id: str | None  # None when the file has no order id column: one is derived
    currency: str | None


def import_transactions(
    path: Path,
    spec: TransactionsFile,
    *,
    landing_dir: Path,
    calendar: Calendar,
    rejects_path: Path,
    covers: DayRange = (None, None),
) -> ImportResult:
    """Lay out `path` as daily `orders` landing files under `landing_dir`, days in `calendar.timezone`.

    `covers` (first day, last day; inclusive, either may be None) declares days the file covers beyond its
    first and last order: an export of June whose last days were quiet still delivers them, so no day is
    left without a file between two imports. Rejected rows are written to `rejects_path` (a stale rejects
    file there is removed when nothing is rejected, so it always describes the latest import). Raises
    TransactionsFileError, before writing anything, when the file cannot be read at all.
    """
    rows, rejected = _read(path, spec)
    orders, unplaced = _place_orders(rows, spec, ZoneInfo(calendar.timezone))
    rejected = sorted(rejected + unplaced, key=lambda r: r.line_number)
    with_currency = spec.columns.currency is not None
    day_files = _day_files(orders, _order_ids(orders), with_currency, covers, calendar)
    changed = {
        day: _write_if_changed(ORDERS.file_for(landing_dir, day), content)
        for day, content in day_files.items()
    }
    days = sorted(day_files)
    placed_days = {order.ordered_at.date() for order in orders}
    return ImportResult(
        source_file=path,
        orders_dir=landing_dir / ORDERS.system / ORDERS.name,
        rows_read=len(orders) + len(rejected),
        rows_written=len(orders),
        rejected=tuple(rejected),
        rejects_file=_write_rejects(rejects_path, rejected),
        first_day=days[0] if days else None,
        last_day=days[-1] if days else None,
        days_written=tuple(day for day in days if changed[day]),
        days_unchanged=tuple(day for day in days if not changed[day]),
        quiet_days=tuple(day for day in days if day not in placed_days),
        days_outside_calendar=tuple(day for day in days if not _in_calendar(day, calendar)),
        calendar=calendar,
    )


def default_rejects_path(data_dir: Path, source_file: Path) -> Path:
    """Beside the data, not the landing folder: rejects are for a person to read, not for the loader."""
    return data_dir / "imports" / f"{source_file.name}.rejected.csv"


# Reading


def _read(path: Path, spec: TransactionsFile) -> tuple[list[_SourceRow], list[RejectedRow]]:
    if not path.is_file():
        raise TransactionsFileError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise TransactionsFileError(f"{path}: empty file (0 bytes), a broken transfer?")
    if spec.format == "parquet":
        return _read_parquet(path, spec.columns)
    return _read_delimited(path, spec)


def _mapped(columns: TransactionColumns) -> dict[str, str | int]:
    """Field -> column reference, for the fields the configuration maps."""
    refs: dict[str, str | int | None] = {
        "customer_key": columns.customer_key,
        "ordered_at": columns.ordered_at,
        "amount": columns.amount,
        "order_id": columns.order_id,
        "currency": columns.currency,
    }
    return {field: ref for field, ref in refs.items() if ref is not None}


def _column_label(ref: str | int) -> str:
    return f"column {ref}" if isinstance(ref, int) else f"column {ref!r}"


def _text_of(path: Path, encoding: str) -> str:
    try:
        return read_text(path, encoding).text
    except LookupError:
        raise TransactionsFileError(
            f"{path}: unknown encoding {encoding!r} (transactions.encoding)"
        ) from None
    except LandingFileError as exc:
        raise TransactionsFileError(str(exc)) from None


def _read_delimited(path: Path, spec: TransactionsFile) -> tuple[list[_SourceRow], list[RejectedRow]]:
    records = list(_records(_text_of(path, spec.encoding), spec.delimiter))
    if not records:
        raise TransactionsFileError(f"{path}: no records, only blank lines")
    header = _header(path, records.pop(0)) if spec.header else None
    width = len(header) if header is not None else _usual_width(records)
    positions = _positions(path, spec, header, width)
    rows: list[_SourceRow] = []
    rejected: list[RejectedRow] = []
    for record in records:
        if record.problem:
            rejected.append(RejectedRow(record.line_number, record.raw, record.reason(header or ())))
        elif len(record.fields) != width:
            reason = f"expected {width} fields, found {len(record.fields)}"
            rejected.append(RejectedRow(record.line_number, record.raw, reason))
        else:
            cells: dict[str, Cell] = {field: record.fields[index] for field, index in positions.items()}
            rows.append(_SourceRow(record.line_number, record.raw, cells))
    return rows, rejected


def _records(text: str, delimiter: str) -> Iterator[CsvRecord]:
    """The file's records as the loader reads CSV (`sources.landing_csv`), or for `whitespace` one line
    each, split at runs of spaces and tabs (no quoting); blank lines hold no record."""
    if delimiter != "whitespace":
        yield from csv_records(text, delimiter, ORDERS.quote_char)
        return
    for line_number, line in text_lines(text):
        stripped = line.strip(" \t")
        if stripped:
            yield CsvRecord(line_number, line, _WHITESPACE.split(stripped))


def _header(path: Path, record: CsvRecord) -> list[str]:
    """The header's column names (trimmed); a header that cannot be read fails the file."""
    if record.problem:
        raise TransactionsFileError(f"{path}: line {record.line_number} (the header): {record.reason()}")
    return [name.strip() for name in record.fields]


def _usual_width(records: Sequence[CsvRecord]) -> int:
    """Without a header, the most common number of fields is the file's width (ties: the first seen)."""
    widths = Counter(len(r.fields) for r in records if not r.problem) or Counter(
        len(r.fields) for r in records
    )
    return widths.most_common(1)[0][0]


def _positions(path: Path, spec: TransactionsFile, header: list[str] | None, width: int) -> dict[str, int]:
    """0-based index of each mapped field; a reference the file cannot satisfy fails the whole file."""
    refs = _mapped(spec.columns)
    if header is not None:
        missing = [f"{field} ({name!r})" for field, name in refs.items() if name not in header]
        if missing:
            raise TransactionsFileError(
                f"{path}: line 1 (the header) has no column for {', '.join(missing)}; it has "
                f"{', '.join(map(repr, header))} (delimiter {spec.delimiter!r})"
            )
        twice = [f"{field} ({name!r})" for field, name in refs.items() if header.count(str(name)) > 1]
        if twice:
            raise TransactionsFileError(
                f"{path}: line 1 (the header) names the column of {', '.join(twice)} more than once; "
                "which one holds the values cannot be told"
            )
        return {field: header.index(str(name)) for field, name in refs.items()}
    beyond = [f"{field} (column {ref})" for field, ref in refs.items() if int(ref) > width]
    if beyond:
        raise TransactionsFileError(
            f"{path}: the rows have {width} fields (delimiter {spec.delimiter!r}), so there is no "
            f"{', '.join(beyond)}; are transactions.delimiter and transactions.columns right?"
        )
    return {field: int(ref) - 1 for field, ref in refs.items()}


def _read_parquet(path: Path, columns: TransactionColumns) -> tuple[list[_SourceRow], list[RejectedRow]]:
    try:
        table = read_parquet_table(path)
    except LandingFileError as exc:
        raise TransactionsFileError(str(exc)) from None
    names: dict[str, str] = {}
    for field, ref in _mapped(columns).items():
        name = table.column_names[ref - 1] if isinstance(ref, int) and ref <= table.num_columns else ref
        if name not in table.column_names:
            raise TransactionsFileError(
                f"{path}: no column for {field} ({ref!r}); the file has {', '.join(table.column_names)}"
            )
        names[field] = str(name)
    cells = {field: _parquet_cells(path, table.column(name), name) for field, name in names.items()}
    rows: list[_SourceRow] = []
    rejected: list[RejectedRow] = []
    for index, raw in enumerate(parquet_raw_records(table)):
        problems = [
            f"{field} ({_column_label(names[field])}): {column.problems[index]}"
            for field, column in cells.items()
            if index in column.problems
        ]
        if problems:
            rejected.append(RejectedRow(index + 1, raw, "; ".join(problems)))
            continue
        row_cells = {field: column.cells[index] for field, column in cells.items()}
        rows.append(_SourceRow(index + 1, raw, row_cells))
    return rows, rejected


@dataclass(frozen=True)
class _ParquetCells:
    cells: list[Cell]
    problems: dict[int, str]  # row index -> why its value cannot be read


def _parquet_cells(path: Path, column: pa.ChunkedArray, name: str) -> _ParquetCells:
    """Typed timestamps and dates stay values (their zone matters), the rest becomes canonical text as the
    loader reads Parquet (`sources.landing_parquet`); a value without either is its row's problem."""
    kind = column.type
    try:
        text = column_text(column)
    except (pa.ArrowException, ValueError, OverflowError) as exc:  # a type read but not convertible
        raise TransactionsFileError(f"{path}: column {name} ({kind}) cannot be read: {exc}") from None
    if text is None:  # a list, struct or map value, or bytes: no text
        held = pc.is_valid(column).to_pylist()
        return _ParquetCells(
            [None] * len(column), {row: "not a scalar value" for row, h in enumerate(held) if h}
        )
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        readable = without_rows(column, text.problems)
        if pa.types.is_timestamp(kind):
            readable = readable.cast(pa.timestamp("us", tz=kind.tz), safe=False)  # finer rows are gone
        return _ParquetCells(readable.to_pylist(), text.problems)
    return _ParquetCells(list(text.values), text.problems)


# Placing rows on days


def _place_orders(
    rows: list[_SourceRow], spec: TransactionsFile, zone: ZoneInfo
) -> tuple[list[_Order], list[RejectedRow]]:
    refs = _mapped(spec.columns)
    orders: list[_Order] = []
    rejected: list[RejectedRow] = []
    for row in rows:
        placed = _place(row, refs, spec.timestamp_format, zone)
        if isinstance(placed, str):
            rejected.append(RejectedRow(row.line_number, row.raw_record, placed))
        else:
            orders.append(placed)
    return orders, rejected


def _place(
    row: _SourceRow, refs: dict[str, str | int], timestamp_format: str | None, zone: ZoneInfo
) -> _Order | str:
    """The row as an order on its local day, or the reasons (naming the fields) it cannot be placed."""
    customer_key = _text(row.cells["customer_key"])
    ordered_at = _ordered_at(row.cells["ordered_at"], timestamp_format, zone)
    problems = []
    if customer_key is None or not customer_key.strip():
        problems.append(f"customer_key ({_column_label(refs['customer_key'])}): missing")
    if isinstance(ordered_at, str):
        problems.append(f"ordered_at ({_column_label(refs['ordered_at'])}): {ordered_at}")
    if problems or customer_key is None or isinstance(ordered_at, str):
        return "; ".join(problems)
    return _Order(
        customer_key=customer_key,
        ordered_at=ordered_at,
        amount=_text(row.cells["amount"]) or "",  # blank: the loader quarantines it naming order_total
        order_id=(_text(row.cells["order_id"]) or "") if "order_id" in refs else None,
        currency=_text(row.cells["currency"]) if "currency" in refs else None,
    )


def _ordered_at(cell: Cell, timestamp_format: str | None, zone: ZoneInfo) -> datetime | str:
    """The local time of the order, or what is wrong with the cell."""
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return "missing"
    try:
        return _local_time(cell, timestamp_format, zone)
    except OverflowError:  # the offset carries it past year 1 or 9999
        return f"{cell!r} falls outside the years 1 to 9999 in {zone.key}"
    except ValueError:
        expected = (
            f"a timestamp in format {timestamp_format}"
            if timestamp_format
            else "an ISO 8601 date or date-time"
        )
        return f"{cell!r} is not {expected}"


def _text(cell: Cell) -> str | None:
    if cell is None or isinstance(cell, str):
        return cell
    return cell.isoformat(sep=" ") if isinstance(cell, datetime) else cell.isoformat()


def _local_time(value: str | date, timestamp_format: str | None, zone: ZoneInfo) -> datetime:
    """Wall-clock time in the calendar's zone: a time with an offset is converted; a naive one is already local.

    Raises ValueError when the text is not a timestamp of the expected form.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif timestamp_format is not None:
        moment = datetime.strptime(value.strip(), timestamp_format)
    else:
        moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone).replace(tzinfo=None)
    return moment


def _order_ids(orders: list[_Order]) -> list[str]:
    """The file's own ids, or `<customer_key>-<YYYYMMDDHHMMSS>` numbered `-2`, `-3`... in file order for
    repeats, so re-importing the same file gives every order the same id (the loader's key)."""
    seen: Counter[str] = Counter()
    ids = []
    for order in orders:
        if order.order_id is not None:
            ids.append(order.order_id)
            continue
        base = f"{order.customer_key}-{order.ordered_at:%Y%m%d%H%M%S}"
        seen[base] += 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


# Writing


def _day_files(
    orders: list[_Order], order_ids: list[str], with_currency: bool, covers: DayRange, calendar: Calendar
) -> dict[date, bytes]:
    """The content of every order day's file, and of the quiet (header-only) days between the first and
    last order day inside the calendar, widened to the days the file is declared to cover (`covers`).

    Quiet days are filled only where the calendar runs: one mistyped year (2204 for 2024) then lands as one
    reported file outside the calendar, not as two centuries of empty ones."""
    order_days = {order.ordered_at.date() for order in orders}
    bounds = [*(day for day in order_days if _in_calendar(day, calendar))]
    bounds += [day for day in covers if day is not None]
    header = ["order_id", "account_id", "ordered_at", "order_total"] + (["currency"] if with_currency else [])
    assert set(header) <= set(ORDERS.column_names)
    quiet = range((max(bounds) - min(bounds)).days + 1) if bounds else range(0)
    rows: dict[date, list[list[str]]] = {min(bounds) + timedelta(days=n): [] for n in quiet}
    rows.update({day: [] for day in order_days if day not in rows})
    for order, order_id in zip(orders, order_ids, strict=True):
        row = [order_id, order.customer_key, order.ordered_at.isoformat(sep=" "), order.amount]
        rows[order.ordered_at.date()].append([*row, order.currency or ""] if with_currency else row)
    return {day: _csv_bytes(header, day_rows) for day, day_rows in rows.items()}


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=ORDERS.delimiter, quotechar=ORDERS.quote_char, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(ORDERS.encoding)


def _write_if_changed(path: Path, content: bytes) -> bool:
    """Whether the file was written. Same bytes: untouched, so its modification time (what the landing
    sensor watches) stays. New bytes go to a temporary file renamed over the old: no reader sees half a day."""
    if path.is_file() and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)
    return True


def _write_rejects(path: Path, rejected: list[RejectedRow]) -> Path | None:
    if not rejected:
        path.unlink(missing_ok=True)  # a rejects file from an earlier import would describe rows now fixed
        return None
    rows = [[str(r.line_number), r.raw_record, r.reason] for r in rejected]
    _write_if_changed(path, _csv_bytes(list(REJECTS_HEADER), rows))
    return path


def _in_calendar(day: date, calendar: Calendar) -> bool:
    """An open calendar runs through today in its zone: a day after that is a typo, not a coming day."""
    end = calendar.end_date or datetime.now(ZoneInfo(calendar.timezone)).date() + timedelta(days=1)
    return calendar.start_date <= day < end


def _day_ranges(days: Sequence[date]) -> str:
    """`1996-12-30..1996-12-31, 1998-07-01` for sorted days: short even when a whole year is outside."""
    ranges: list[list[date]] = []
    for day in days:
        if ranges and day - ranges[-1][1] == timedelta(days=1):
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in ranges)


# Command line


def main(argv: list[str] | None = None) -> int:
    """`python -m sources.transactions FILE`: import FILE as the configuration ($CLIENTELE_CONFIG) says."""
    parser = argparse.ArgumentParser(
        prog="python -m sources.transactions",
        description="Lay out a flat transactions file (CSV or Parquet) as daily orders landing files.",
    )
    parser.add_argument("file", type=Path, help="the transactions file")
    parser.add_argument("--landing", type=Path, help="landing folder (default: paths.landing_dir)")
    parser.add_argument(
        "--rejects", type=Path, help="rejected rows (default: <paths.data_dir>/imports/<file>.rejected.csv)"
    )
    parser.add_argument(
        "--from", dest="first_day", type=date.fromisoformat, help="first day the file covers (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--through", dest="last_day", type=date.fromisoformat, help="last day the file covers (YYYY-MM-DD)"
    )
    args = parser.parse_args(argv)
    try:
        config = load_config()
        if config.transactions is None:
            origin = os.environ.get(CONFIG_ENV) or f"the configuration ({CONFIG_ENV} is not set)"
            raise ConfigError(
                f"{origin} has no `transactions` section saying how to read the file (format, delimiter, "
                f"header, timestamp_format, columns); {EXAMPLE_CONFIG} has one for the CDNOW sample"
            )
        result = import_transactions(
            args.file,
            config.transactions,
            landing_dir=args.landing or config.paths.landing_dir,
            calendar=config.calendar,
            rejects_path=args.rejects or default_rejects_path(config.paths.data_dir, args.file),
            covers=(args.first_day, args.last_day),
        )
    except (TransactionsFileError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
