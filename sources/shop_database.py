"""Sales extracted from the shop's operational PostgreSQL database, as batches of export days.

The shop database holds only the current version of each row, stamped with `updated_at`. An extract
covers a window of local days [start, end) and returns one batch per day: the rows whose `updated_at`
falls in that day in the business time zone, so a timestamp near a daylight-saving change lands in the
day a person in the shop would name. A transaction that commits late can stamp a row with a time in a
day already extracted; the caller therefore widens its window by a lookback and replaces those days
whole, which picks such rows up once, never twice.

Values are read as text in the same canonical spelling as the landing files, so the raw layer types
both the same strict way. Nothing is written anywhere here: an unreachable database or a missing
column raises before the caller has touched the warehouse.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from sources.batches import SourceBatch
from sources.contracts import SourceContract

SHOP_SCHEMA = "shop"


class ShopDatabaseError(Exception):
    """The shop database cannot give a complete extract (unreachable, or a table lacks required columns)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Connection attempts with exponential backoff: `attempts` tries, waiting base, 2*base, 4*base ..."""

    attempts: int = 5
    base_delay_seconds: float = 2.0

    def delays(self) -> Iterator[float]:
        for attempt in range(self.attempts - 1):
            yield self.base_delay_seconds * 2**attempt


def safe_address(url: str) -> str:
    """`postgresql://host:port/dbname` of a connection URL or DSN, without user or password."""
    parts = conninfo_to_dict(url)
    return (
        f"postgresql://{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"
    )


def _local_time(column: str, database_type: str) -> sql.Composable:
    """SQL for a timestamp column as local wall-clock time: an instant (`timestamptz`) converted to the
    business zone; a `timestamp` without zone taken as already local, as shops that store one mean."""
    if database_type == "timestamp with time zone":
        return sql.SQL("({} at time zone %(tz)s)").format(sql.Identifier(column))
    return sql.Identifier(column)


def _text_of(column: str, contract_type: str, database_type: str) -> sql.Composable:
    """SQL for a column's value as the text a landing file would carry (timestamps in local time).

    `to_char` renders infinity as NULL (a required value would read as missing, an optional one as
    absent) and a year BC without its era: those are left in PostgreSQL's own spelling ('infinity',
    '0044-03-15 12:00:00 BC'), which the raw layer quarantines as not a valid TIMESTAMP.
    """
    upper = contract_type.upper()
    if upper == "TIMESTAMP":
        return sql.SQL(
            "case when isfinite({0}) and {0} >= '0001-01-01' then to_char({0}, 'YYYY-MM-DD HH24:MI:SS.US') "
            "else ({0})::text end"
        ).format(_local_time(column, database_type))
    if upper == "BOOLEAN":
        return sql.SQL("case when {0} then 'true' when not {0} then 'false' end").format(
            sql.Identifier(column)
        )
    return sql.SQL("{}::text").format(sql.Identifier(column))


def _table_columns(cursor: psycopg.Cursor, contract: SourceContract) -> dict[str, str]:
    """Column name -> PostgreSQL data type of the contract's shop table (empty when there is no table)."""
    cursor.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = %s",
        [SHOP_SCHEMA, contract.name],
    )
    return dict(cursor.fetchall())


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def extract_days(
    connection: psycopg.Connection,
    contract: SourceContract,
    start: date,
    end: date,
    timezone: str,
    initial: bool = False,
) -> list[SourceBatch]:
    """One batch per local day in [start, end) (empty days included) of rows by `updated_at`.

    `initial` marks the calendar's first window: it also takes every row updated before `start` into
    the first day's batch, as a first export of a shop holds its history.

    Reads in one repeatable-read, read-only transaction, so the days of one extract are one consistent
    state of the database. Rows are numbered in key order within their day.
    """
    tz = ZoneInfo(timezone)
    origin = f"{safe_address(connection.info.dsn)}/{SHOP_SCHEMA}.{contract.name}"
    connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    connection.read_only = True
    with connection.transaction(), connection.cursor() as cursor:
        # The session's zone is the business's, so a `timestamp` without zone compared with the window's
        # instants is read as local time too.
        cursor.execute(sql.SQL("set local time zone {}").format(sql.Literal(timezone)))
        present = _table_columns(cursor, contract)
        if not present:
            raise ShopDatabaseError(f"{origin}: table not found")
        # An extract finds its rows by the version column, so a database table must have it even where a
        # landing file may leave it out.
        needed = dict.fromkeys([*contract.required_columns, contract.version_column])
        missing = [c for c in needed if c not in present]
        if missing:
            raise ShopDatabaseError(f"{origin}: required columns missing: {', '.join(missing)}")
        selected = [
            _text_of(c.name, c.type, present[c.name]) if c.name in present else sql.SQL("null::text")
            for c in contract.columns
        ]
        version = sql.Identifier(contract.version_column)
        query = sql.SQL(
            "select greatest({local_version}::date, %(first_day)s), {values} from {table} "
            "where ({version} >= %(start)s or %(initial)s) and {version} < %(end)s order by {key}"
        ).format(
            version=version,
            local_version=_local_time(contract.version_column, present[contract.version_column]),
            values=sql.SQL(", ").join(selected),
            table=sql.Identifier(SHOP_SCHEMA, contract.name),
            key=sql.SQL(", ").join(sql.Identifier(k) for k in contract.key),
        )
        cursor.execute(
            query,
            {
                "tz": timezone,
                "first_day": start,
                "initial": initial,
                "start": _local_midnight(start, tz),
                "end": _local_midnight(end, tz),
            },
        )
        rows = cursor.fetchall()
    added = tuple(sorted(set(present) - set(contract.column_names)))
    absent = tuple(c for c in contract.column_names if c not in present)
    batches = {
        start + timedelta(days=i): SourceBatch(
            contract,
            origin,
            start + timedelta(days=i),
            {c: [] for c in contract.column_names},
            added_columns=added,
            missing_columns=absent,
        )
        for i in range((end - start).days)
    }
    for local_day, *values in rows:
        batch = batches[local_day]
        for name, value in zip(contract.column_names, values, strict=True):
            batch.columns[name].append(value)
        batch.line_numbers.append(len(batch.line_numbers) + 1)
        batch.raw_records.append(json.dumps(dict(zip(contract.column_names, values, strict=True))))
    return list(batches.values())


def extract_window(
    url: str,
    contract: SourceContract,
    start: date,
    end: date,
    timezone: str,
    initial: bool = False,
    retry: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
) -> list[SourceBatch]:
    """`extract_days` on a fresh connection, retried with backoff when the database cannot be reached or
    drops the connection; ShopDatabaseError, naming the database and the last error, once retries run out.
    """
    delays = retry.delays()
    waited = 0.0
    while True:
        try:
            with psycopg.connect(url, connect_timeout=10) as connection:
                return extract_days(connection, contract, start, end, timezone, initial)
        except psycopg.OperationalError as exc:
            delay = next(delays, None)
            if delay is None:
                raise ShopDatabaseError(
                    f"shop database {safe_address(url)} unreachable after {retry.attempts} attempts "
                    f"over {waited:.0f}s: {str(exc).strip()}"
                ) from exc
            sleep(delay)
            waited += delay
