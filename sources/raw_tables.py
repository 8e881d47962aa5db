"""The raw layer of the warehouse: typed copies of every landing record, and the quarantine beside them.

Values are typed set-based in DuckDB (a regular expression for the exact form, then `TRY_CAST`), so a
value that does not fit its type sends its whole row to `raw.quarantine` with a reason naming the field,
instead of loading as NULL; a blank value is a missing one, and a timestamp with an offset is stored as
the business's local time. A load covers a window of export days and replaces exactly that window in
one transaction: a re-run, a backfill or a crash half-way leaves the table as one consistent version,
never doubled and never half-written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pyarrow as pa

from sources.batches import SourceBatch, records_schema
from sources.contracts import SourceContract
from sources.pii import NORTH_AMERICA, pseudonymise

RAW_SCHEMA = "raw"
QUARANTINE_TABLE = f"{RAW_SCHEMA}.quarantine"
_METADATA_DDL = "_export_date DATE, _source_file VARCHAR, _line_number BIGINT, _loaded_at TIMESTAMP"


def hash_column(column: str) -> str:
    return f"{column}_hash"


def raw_table_name(contract: SourceContract) -> str:
    return f"{RAW_SCHEMA}.{contract.raw_table}"


def raw_table_ddl(contract: SourceContract) -> str:
    """CREATE TABLE for a source: contract columns, a keyed hash per PII column, load metadata."""
    columns = [f"{c.name} {c.type}" for c in contract.columns]
    columns += [f"{hash_column(c.name)} VARCHAR" for c in contract.columns if c.pii]
    return f"create table if not exists {raw_table_name(contract)} ({', '.join(columns)}, {_METADATA_DDL})"


QUARANTINE_DDL = f"""
create table if not exists {QUARANTINE_TABLE} (
    source VARCHAR, export_date DATE, source_file VARCHAR, line_number BIGINT,
    raw_record VARCHAR, reason VARCHAR, loaded_at TIMESTAMP
)"""

# One row per source and export day loaded, quiet days included: what "the last loaded day" means
# (the default scoring date is the day after it), which a table of records cannot say for a day
# without any.
EXPORT_DAYS_TABLE = f"{RAW_SCHEMA}.export_days"
EXPORT_DAYS_DDL = f"""
create table if not exists {EXPORT_DAYS_TABLE} (
    source VARCHAR, export_date DATE, origin VARCHAR, rows_read BIGINT, loaded_at TIMESTAMP
)"""


def ensure_raw_schema(con: duckdb.DuckDBPyConnection, contracts: tuple[SourceContract, ...]) -> None:
    """The raw schema with the quarantine, the export-day log and an (empty) table per contract."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(QUARANTINE_DDL)
    con.execute(EXPORT_DAYS_DDL)
    for contract in contracts:
        con.execute(raw_table_ddl(contract))


@dataclass(frozen=True)
class LoadResult:
    """Row accounting of one load: rows_read == rows_loaded + rows_quarantined, always."""

    table: str
    window_start: date
    window_end: date
    files: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    quarantine_reasons: dict[str, int]
    schema_changes: dict[str, dict[str, list[str]]]  # origin -> {"added": [...], "missing": [...]}
    notes: dict[str, list[str]] = field(default_factory=dict)  # origin -> what its reader noted

    @property
    def quarantined_share(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0


# Timestamps and dates are read in canonical forms only. DuckDB's own casts are far more lenient than a
# contract may be: they read 'infinity' as 9999-12-31 (it would outrank every later version of its key),
# 'epoch' as 1970, '24:00:00' as the next midnight, drop a zone suffix ('...Z', '+02:00') without
# converting, and cut digits finer than microseconds. The patterns decide what is a value; DuckDB's cast
# then only checks the calendar (no 30 February).
MIN_YEAR, MAX_YEAR = 1900, 2200
DATE_PATTERN = r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
# Seconds stop at 59 (a leap second has no TIMESTAMP); digits beyond microseconds only when all 0.
_CLOCK = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6}0*)?)?"
# UTC as Z or by name, or an offset of at most 14 hours, with or without its colon (PostgreSQL writes +02).
_ZONE = r"(Z| UTC| GMT|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)"
LOCAL_TIMESTAMP_PATTERN = f"{DATE_PATTERN}([T ]{_CLOCK})?"
ZONED_TIMESTAMP_PATTERN = f"{DATE_PATTERN}[T ]{_CLOCK}{_ZONE}"
# A value of nothing but these is blank, i.e. missing: Unicode white space (Python's str.isspace and the
# separators \p{Z}) and the zero-width characters an export may leave in an empty cell.
BLANK_PATTERN = r"[\t\n\x{0B}\f\r\x{1C}-\x{1F}\x{85}\p{Z}\x{200B}-\x{200D}\x{2060}\x{FEFF}]*"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _typed_value(column: str, column_type: str, timezone: str) -> str:
    """SQL for the text in `column` as a value of `column_type`, or NULL when it is not exactly one.

    TRY_CAST alone is too lenient to be a contract: it reads 'yes' as true, rounds '1.5' to the integer
    2 and '12.345' to 12.35, and takes 'infinity' for a timestamp. A value that would change on the way
    in is NULL here, and so quarantined. A timestamp written with an offset (or Z, UTC, GMT) is converted
    to the wall-clock time of `timezone`, the business's zone, which is what TIMESTAMP columns hold.
    """
    cast = f"try_cast({column} as {column_type})"
    upper = column_type.upper()
    if upper == "BOOLEAN":
        exact = f"lower({column}) in ('true', 'false')"
    elif upper in ("INTEGER", "BIGINT", "SMALLINT"):
        exact = f"regexp_full_match({column}, '[+-]?[0-9]+')"
    elif upper.startswith("DECIMAL"):
        scale = upper.rstrip(")").split(",")[-1].strip() if "," in upper else "0"
        exact = f"regexp_full_match({column}, '[+-]?[0-9]+([.][0-9]{{1,{scale}}})?')"
    elif upper == "DATE":
        exact = f"regexp_full_match({column}, '{DATE_PATTERN}')"
    elif upper == "TIMESTAMP":
        # Zone-less text is local time already. Zoned text is an instant: DuckDB's TIMESTAMPTZ cast reads
        # every offset form the pattern admits, whatever the session's zone, and `timezone` shows it as
        # the business's wall-clock time.
        return (
            f"case when regexp_full_match({column}, '{LOCAL_TIMESTAMP_PATTERN}') then {cast} "
            f"when regexp_full_match({column}, '{ZONED_TIMESTAMP_PATTERN}') "
            f"then timezone({_sql_text(timezone)}, try_cast({column} as TIMESTAMPTZ)) end"
        )
    else:
        return cast
    return f"case when {exact} then {cast} end"


def _typed(column: str) -> str:
    """The name of a column's typed copy in `checked_records`."""
    return f"_typed_{column}"


REASON_VALUE_CHARS = 80


def _quoted_start(column: str) -> str:
    """SQL for the text of `column` as a reason quotes it: whole up to REASON_VALUE_CHARS, else cut short."""
    return (
        f"case when length({column}) > {REASON_VALUE_CHARS} "
        f"then left({column}, {REASON_VALUE_CHARS}) || '...' else {column} end"
    )


def _invalid_value_checks(contract: SourceContract) -> str:
    """SQL for a row's reasons to be quarantined: missing required values and values of the wrong type.

    Reads `checked_records`' text columns (blanks already NULL) beside their typed copies.
    """
    checks = []
    for column in contract.columns:
        name, kind = column.name, column.type
        if column.required:
            checks.append(f"case when {name} is null then 'missing required field {name}' end")
        if kind == "VARCHAR":
            continue
        # a value may be up to a megabyte: the reason quotes its start only
        shown = "value" if column.pii else f"''' || {_quoted_start(name)} || '''"
        invalid = f"'field {name}: {shown} is not a valid {kind}"
        out_of_range = ""
        if kind.upper() in ("DATE", "TIMESTAMP"):
            out_of_range = (
                f" when not year({_typed(name)}) between {MIN_YEAR} and {MAX_YEAR}"
                f" then {invalid} (year outside {MIN_YEAR}-{MAX_YEAR})'"
            )
        checks.append(
            f"case when {name} is not null and {_typed(name)} is null then {invalid}'{out_of_range} end"
        )
    return f"concat_ws('; ', {', '.join(checks)})"


def _check_records(con: duckdb.DuckDBPyConnection, contract: SourceContract, timezone: str) -> None:
    """`checked_records` from the registered `incoming_records`: blank values NULL, a typed copy of every
    column that is not text, and the `_reason` a row is quarantined for ('' when it loads).

    Set-based in DuckDB, one pass over the batch: a regular expression and a cast per value.
    """
    # A value starting with a visible ASCII character (most of them) is not blank: no regex needed.
    blank_is_null = ", ".join(
        f"case when ascii({c}) between 33 and 126 then {c} "
        f"when regexp_full_match({c}, '{BLANK_PATTERN}') then null else {c} end as {c}"
        for c in contract.column_names
    )
    typed = "".join(
        f", {_typed_value(c.name, c.type, timezone)} as {_typed(c.name)}"
        for c in contract.columns
        if c.type != "VARCHAR"
    )
    con.execute(
        f"create or replace temp table checked_records as "
        f"select *, {_invalid_value_checks(contract)} as _reason from ("
        f"select *{typed} from (select * replace ({blank_is_null}) from incoming_records))"
    )


def _typed_columns(contract: SourceContract) -> list[str]:
    """The raw table's contract and hash columns, in its order, as selected from `checked_records`."""
    columns = [c.name if c.type == "VARCHAR" else f"{_typed(c.name)} as {c.name}" for c in contract.columns]
    return columns + [hash_column(c.name) for c in contract.columns if c.pii]


def _check_time_zone(timezone: str) -> None:
    """ValueError naming `timezone` unless it is an IANA time zone name."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"not an IANA time zone name such as Europe/Berlin or UTC: {timezone!r}") from exc


def _incoming_table(
    contract: SourceContract, files: list[SourceBatch], key: bytes, phone_country_code: str
) -> pa.Table:
    """Every kept record of `files` as one table: text values, a keyed hash per PII column, load metadata."""
    parts = []
    for parsed in files:
        records = parsed.records()
        n = records.num_rows
        parts.append(
            records.append_column(
                "_export_date", pa.array([parsed.export_date] * n, pa.date32())
            ).append_column("_source_file", pa.array([parsed.origin] * n, pa.string()))
        )
    schema = records_schema(contract.column_names)
    schema = schema.append(pa.field("_export_date", pa.date32())).append(
        pa.field("_source_file", pa.string())
    )
    incoming = pa.concat_tables(parts) if parts else schema.empty_table()
    for column in contract.columns:
        if column.pii:
            values = incoming.column(column.name).to_pylist()
            hashed = pseudonymise(column.name, values, key, phone_country_code)
            incoming = incoming.append_column(hash_column(column.name), pa.array(hashed, pa.string()))
    return incoming


class Replace(StrEnum):
    """What a load replaces inside its window of export days.

    DAYS: every row of the window. A landing file is the whole export of its day, so a re-delivered day
    is the truth for that day.
    KEYS: only the rows of keys the batches carry. A database extract holds each row's current version
    only: a row updated again after the window is absent from it, and its earlier version in the window
    must stay until the day holding the new one is loaded.
    """

    DAYS = "days"
    KEYS = "keys"


def _same_key(contract: SourceContract, stored: Callable[[str], str]) -> str:
    """SQL: an incoming record (`checked_records`, text) has the key of the stored row, whose key column
    `k` is the expression `stored(k)`."""
    pairs = [f"checked_records.{k} = cast({stored(k)} as varchar)" for k in contract.key]
    return f" and exists (select 1 from checked_records where {' and '.join(pairs)})"


def newest_versions_sql(contract: SourceContract) -> str:
    """SQL for the newest raw version of every key (contract columns, in key order), picked as staging
    picks it: by the version column, then export day, then line."""
    key = ", ".join(contract.key)
    return (
        f"select {', '.join(contract.column_names)} from ("
        f"  select *, row_number() over (partition by {key}"
        f"    order by {contract.version_column} desc, _export_date desc, _line_number desc) as _newest"
        f"  from {raw_table_name(contract)}"
        f") where _newest = 1 order by {key}"
    )


def _log_export_days(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    files: list[SourceBatch],
    window_start: date,
    window_end: date,
    loaded_at: datetime,
) -> None:
    """Record every export day of the window as loaded, with what it brought (a quiet day reads 0)."""
    con.execute(
        f"delete from {EXPORT_DAYS_TABLE} where source = ? and export_date between ? and ?::date - 1",
        [contract.raw_table, window_start, window_end],
    )
    by_day = {f.export_date: f for f in files}
    days = [window_start + timedelta(days=i) for i in range((window_end - window_start).days)]
    rows = [
        (
            contract.raw_table,
            day,
            by_day[day].origin if day in by_day else None,
            by_day[day].rows_read if day in by_day else 0,
            loaded_at,
        )
        for day in days
    ]
    if rows:
        con.executemany(f"insert into {EXPORT_DAYS_TABLE} values (?, ?, ?, ?, ?)", rows)


def last_export_day(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> date | None:
    """The latest export day of `contract` that was loaded (quiet or not), or None before any load."""
    schema, table = EXPORT_DAYS_TABLE.split(".")
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    if not exists or not exists[0]:
        return None
    row = con.execute(
        f"select max(export_date) from {EXPORT_DAYS_TABLE} where source = ?", [contract.raw_table]
    ).fetchone()
    return row[0] if row else None


def load_window(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    files: list[SourceBatch],
    window_start: date,
    window_end: date,
    pii_key: bytes,
    replace: Replace = Replace.DAYS,
    *,
    timezone: str = "UTC",
    phone_country_code: str = NORTH_AMERICA,
) -> LoadResult:
    """Replace export days [window_start, window_end) of the source's raw table with `files`, atomically:
    the whole window, or only the keys the batches carry (`replace`).

    `timezone` is the business's (the deployment's `calendar.timezone`): timestamps written with an
    offset are stored as its wall-clock time. Zone-less timestamps are local time already and stored as
    written, so the default only matters to batches that carry offsets. `phone_country_code` is the
    country of phone numbers written without one (the deployment's `identity.phone_country_code`).
    """
    outside = [f.origin for f in files if not window_start <= f.export_date < window_end]
    if outside:
        raise ValueError(f"files outside the window [{window_start}, {window_end}): {outside}")
    _check_time_zone(timezone)
    # to the microsecond: the facts rebuild what was loaded after their newest stored load time, so two
    # loads within one second must not share a stamp with a build between them
    loaded_at = datetime.now()
    table = raw_table_name(contract)
    incoming = _incoming_table(contract, files, pii_key, phone_country_code)
    window = "between ? and ?::date - 1"
    raw_keys = quarantined_keys = ""
    if replace is Replace.KEYS:
        raw_keys = _same_key(contract, lambda k: f"{table}.{k}")
        quarantined_keys = _same_key(
            contract, lambda k: f"json_extract_string({QUARANTINE_TABLE}.raw_record, '$.{k}')"
        )
    ensure_raw_schema(con, (contract,))
    con.register("incoming_records", incoming)
    try:
        _check_records(con, contract, timezone)
    finally:
        con.unregister("incoming_records")
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {table} where _export_date {window}{raw_keys}", [window_start, window_end])
        inserted = con.execute(
            f"insert into {table} select {', '.join(_typed_columns(contract))}, "
            f"_export_date, _source_file, _line_number, ?::timestamp from checked_records where _reason = ''",
            [loaded_at],
        ).fetchone()
        con.execute(
            f"delete from {QUARANTINE_TABLE} where source = ? and export_date {window}{quarantined_keys}",
            [contract.raw_table, window_start, window_end],
        )
        con.execute(
            f"insert into {QUARANTINE_TABLE} select ?, _export_date, _source_file, _line_number, _raw, _reason, "
            f"?::timestamp from checked_records where _reason <> ''",
            [contract.raw_table, loaded_at],
        )
        structural = [
            (contract.raw_table, f.export_date, f.origin, q.line_number, q.raw_record, q.reason, loaded_at)
            for f in files
            for q in f.quarantined
        ]
        if structural:
            con.executemany(f"insert into {QUARANTINE_TABLE} values (?, ?, ?, ?, ?, ?, ?)", structural)
        _log_export_days(con, contract, files, window_start, window_end, loaded_at)
        rows_loaded = inserted[0] if inserted else 0
        rows_read = sum(f.rows_read for f in files)
        if replace is Replace.DAYS:  # the window is this load's alone: count what the table now holds
            rows_quarantined = con.execute(
                f"select count(*) from {QUARANTINE_TABLE} where source = ? and export_date {window}",
                [contract.raw_table, window_start, window_end],
            ).fetchone()[0]  # type: ignore[index]
        else:  # other loads' rows share the window: count this load's own
            rejected = con.execute("select count(*) from checked_records where _reason <> ''").fetchone()
            rows_quarantined = len(structural) + (rejected[0] if rejected else 0)
        if rows_read != rows_loaded + rows_quarantined:
            raise RuntimeError(
                f"{table}: row accounting broken for [{window_start}, {window_end}): read {rows_read}, "
                f"loaded {rows_loaded}, quarantined {rows_quarantined}; nothing was written"
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    reasons: Counter[str] = Counter(q.reason.split(":")[0] for f in files for q in f.quarantined)
    for (reason,) in con.execute("select _reason from checked_records where _reason <> ''").fetchall():
        reasons.update(part.split(":")[0] for part in reason.split("; "))
    return LoadResult(
        table=table,
        window_start=window_start,
        window_end=window_end,
        files=len(files),
        rows_read=rows_read,
        rows_loaded=rows_loaded,
        rows_quarantined=rows_quarantined,
        quarantine_reasons=dict(reasons),
        schema_changes={f.origin: f.schema_changes for f in files if f.schema_changes},
        notes={f.origin: list(f.notes) for f in files if f.notes},
    )
