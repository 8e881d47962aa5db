"""The bad-value catalogue (docs/reliability.md, "Timestamps and dates", "Blank values", "Stray files").

Like `test_reliability.py`: real exports in a temporary landing folder, read with `read_landing_file`,
loaded with `load_window` into a DuckDB file, and rows read = rows loaded + rows quarantined checked on
every load. The deployment's time zone here is Europe/Berlin (UTC+1 in winter, UTC+2 in summer), so an
offset that is not converted shows as an hour or two off.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import psycopg
import pyarrow as pa
import pytest
from landing_fixture import (
    KEY,
    assert_accounted,
    quarantine_reasons,
    warehouse,
    write_csv,
    write_jsonl,
    write_parquet,
)

from orchestration.defs.ingestion.assets import QuarantineGateResource, build_landing_asset
from orchestration.lib.landing import LandingResource
from orchestration.lib.warehouse import WarehouseResource
from sources.contracts import (
    CONTACTS,
    LOYALTY_MEMBERS,
    MARKETING_EVENTS,
    ORDERS,
    SALES_SOURCES,
    Column,
    SourceContract,
)
from sources.demo.shop_database import shop_table_ddl
from sources.landing import read_landing_file
from sources.raw_tables import BLANK_PATTERN, LoadResult, load_window, newest_versions_sql
from sources.shop_database import extract_window

BERLIN = "Europe/Berlin"
DAY = date(2024, 3, 1)
NEXT_DAY = date(2024, 3, 2)
HEADER = ",".join(ORDERS.column_names)


def order(order_id: str, **values: str) -> str:
    """A valid orders CSV line; keyword arguments replace columns (values are written verbatim)."""
    row = {
        "order_id": order_id,
        "account_id": "A1",
        "channel": "web",
        "ordered_at": "2024-03-01T10:00:00",
        "currency": "EUR",
        "order_total": "12.50",
        "updated_at": "2024-03-01T10:00:00",
        **values,
    }
    return ",".join(row.get(name, "") for name in ORDERS.column_names)


def load_in_zone(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    landing: Path,
    days: list[date],
    timezone: str = BERLIN,
) -> LoadResult:
    """The asset's path with the deployment's time zone: each day's file read, one load of the window."""
    files = [read_landing_file(contract, contract.file_for(landing, day), day) for day in days]
    return load_window(con, contract, files, days[0], days[-1] + timedelta(days=1), KEY, timezone=timezone)


def stored(con: duckdb.DuckDBPyConnection, query: str) -> dict[str, object]:
    return dict(con.execute(query).fetchall())


# Timestamps and dates

# What exporters write; DuckDB's TRY_CAST reads most of these as some other timestamp.
NOT_A_TIMESTAMP = [
    "infinity",  # PostgreSQL's COPY of an open-ended validity: would outrank every later version
    "-infinity",
    "epoch",  # 1970-01-01 to DuckDB
    "2024-03-01 24:00:00",  # the next midnight to DuckDB
    "2024-03-01T10:60:00",
    "2016-12-31T23:59:60",  # a leap second: no TIMESTAMP holds it
    "2024-13-01T10:00:00",
    "2024-02-30T10:00:00",
    "2024-03-01T10:00:00.1234567",  # a digit finer than microseconds that is not 0
    " 2024-03-01T10:00:00",  # padded: other types are not trimmed either
    "2024-03-01T10",
    "20240301T100000",
    "2024-03-01T10:00:00+15:00",  # no such offset
    "2024-03-01T10:00:00 Europe/Berlin",  # zone names other than UTC and GMT are not read
    "2024-03-01Z",  # an offset needs a time
    "now",
    "today",
]
OUT_OF_RANGE = ["1899-12-31T23:59:59", "2201-01-01T00:00:00", "0001-01-01", "9999-12-31T23:59:59.999999"]


def test_timestamps_outside_the_canonical_forms_are_quarantined_naming_the_field(tmp_path: Path) -> None:
    rows = [order("O-good")]
    rows += [order(f"O{i}", updated_at=value) for i, value in enumerate(NOT_A_TIMESTAMP + OUT_OF_RANGE)]
    rows += [order("O-ordered", ordered_at="infinity")]
    write_csv(ORDERS, tmp_path, DAY, HEADER, *rows)
    con = warehouse(tmp_path)
    result = load_in_zone(con, ORDERS, tmp_path, [DAY])
    assert_accounted(con, ORDERS, result, len(rows))
    assert result.rows_loaded == 1
    reasons = [f"field updated_at: '{value}' is not a valid TIMESTAMP" for value in NOT_A_TIMESTAMP]
    reasons += [
        f"field updated_at: '{value}' is not a valid TIMESTAMP (year outside 1900-2200)"
        for value in OUT_OF_RANGE
    ]
    reasons += ["field ordered_at: 'infinity' is not a valid TIMESTAMP"]
    assert quarantine_reasons(con, ORDERS) == dict(enumerate(reasons, start=3))  # after header and O-good
    assert result.quarantine_reasons == {"field updated_at": len(rows) - 2, "field ordered_at": 1}


def test_special_timestamps_in_json_lines_are_quarantined(tmp_path: Path) -> None:
    base = {"contact_id": "C1", "created_at": "2024-03-01T09:00:00", "updated_at": "2024-03-01T09:00:00"}
    documents = [
        base,
        {**base, "contact_id": "C2", "updated_at": "infinity"},
        {**base, "contact_id": "C3", "created_at": "epoch"},
        {**base, "contact_id": "C4", "updated_at": "2024-03-01T24:00:00"},
    ]
    write_jsonl(CONTACTS, tmp_path, DAY, *documents)
    con = warehouse(tmp_path)
    assert_accounted(con, CONTACTS, load_in_zone(con, CONTACTS, tmp_path, [DAY]), 4)
    assert quarantine_reasons(con, CONTACTS) == {
        2: "field updated_at: 'infinity' is not a valid TIMESTAMP",
        3: "field created_at: 'epoch' is not a valid TIMESTAMP",
        4: "field updated_at: '2024-03-01T24:00:00' is not a valid TIMESTAMP",
    }


def test_an_infinite_version_never_outranks_a_later_correction(tmp_path: Path) -> None:
    # The user's case: a row stamped `infinity` would be the newest version of its key forever.
    write_csv(ORDERS, tmp_path, DAY, HEADER, order("O1", order_total="99.00", updated_at="infinity"))
    write_csv(
        ORDERS, tmp_path, NEXT_DAY, HEADER, order("O1", order_total="10.00", updated_at="2024-03-02T08:00:00")
    )
    con = warehouse(tmp_path)
    assert_accounted(con, ORDERS, load_in_zone(con, ORDERS, tmp_path, [DAY, NEXT_DAY]), 2)
    [newest] = con.execute(newest_versions_sql(ORDERS)).fetchall()
    assert newest[ORDERS.column_names.index("order_total")] == 10


CANONICAL = {
    "2024-03-01": datetime(2024, 3, 1),
    "2024-03-01 10:00": datetime(2024, 3, 1, 10),
    "2024-03-01T10:00": datetime(2024, 3, 1, 10),
    "2024-03-01T10:00:05": datetime(2024, 3, 1, 10, 0, 5),
    "2024-03-01 10:00:05.5": datetime(2024, 3, 1, 10, 0, 5, 500000),
    "2024-03-01T10:00:05.123456": datetime(2024, 3, 1, 10, 0, 5, 123456),
    "2024-03-01T10:00:05.123456000": datetime(2024, 3, 1, 10, 0, 5, 123456),  # nanoseconds, all 0
    "1900-01-01T00:00:00": datetime(1900, 1, 1),
    "2200-12-31T23:59:59.999999": datetime(2200, 12, 31, 23, 59, 59, 999999),
}


def test_timestamps_in_every_canonical_form_load_as_written(tmp_path: Path) -> None:
    rows = [order(f"O{i}", updated_at=value) for i, value in enumerate(CANONICAL)]
    write_csv(ORDERS, tmp_path, DAY, HEADER, *rows)
    con = warehouse(tmp_path)
    assert_accounted(con, ORDERS, load_in_zone(con, ORDERS, tmp_path, [DAY]), len(rows))
    loaded = stored(con, "select order_id, updated_at from raw.sales_orders")
    assert loaded == {f"O{i}": value for i, value in enumerate(CANONICAL.values())}


# Written with an offset -> the local wall-clock time in Berlin that the raw layer must store.
ZONED = {
    "2024-03-01T09:00:00Z": datetime(2024, 3, 1, 10),
    "2024-03-01T08:00:00.000Z": datetime(2024, 3, 1, 9),  # JavaScript's toISOString()
    "2024-03-01T10:00:00+02:00": datetime(2024, 3, 1, 9),
    "2024-03-01 10:00:00+02": datetime(2024, 3, 1, 9),  # PostgreSQL's text of a timestamptz
    "2024-03-01T10:00:00+0200": datetime(2024, 3, 1, 9),
    "2024-03-01T05:30-03:30": datetime(2024, 3, 1, 10),
    "2024-03-01 09:00:00 UTC": datetime(2024, 3, 1, 10),
    "2024-03-01 09:00:00 GMT": datetime(2024, 3, 1, 10),
    "2024-03-01T09:00:00.123456-00:00": datetime(2024, 3, 1, 10, 0, 0, 123456),
    "2024-03-01T09:00:00.500000000Z": datetime(2024, 3, 1, 10, 0, 0, 500000),
    "2024-03-01T09:00Z": datetime(2024, 3, 1, 10),
    "2024-07-01T08:00:00Z": datetime(2024, 7, 1, 10),  # summer time
    # Berlin moves to summer time at 2024-03-31 01:00 UTC (02:00 local becomes 03:00).
    "2024-03-31T00:30:00Z": datetime(2024, 3, 31, 1, 30),
    "2024-03-31T01:30:00Z": datetime(2024, 3, 31, 3, 30),
    # ... and back at 2024-10-27 01:00 UTC: two instants an hour apart are the same wall-clock time.
    "2024-10-27T00:30:00Z": datetime(2024, 10, 27, 2, 30),
    "2024-10-27T01:30:00Z": datetime(2024, 10, 27, 2, 30),
    # Near midnight: the record's own time moves to the next local day.
    "2024-03-01T23:30:00Z": datetime(2024, 3, 2, 0, 30),
}


@pytest.mark.parametrize("session_zone", ["UTC", "America/New_York"])
def test_offsets_are_converted_to_the_business_time_zone(tmp_path: Path, session_zone: str) -> None:
    # Whatever the DuckDB session's own zone (it follows the machine's), the stored time is Berlin's.
    rows = [order(f"O{i}", ordered_at=value, updated_at=value) for i, value in enumerate(ZONED)]
    write_csv(ORDERS, tmp_path, DAY, HEADER, *rows)
    con = warehouse(tmp_path)
    con.execute(f"set TimeZone = '{session_zone}'")
    assert_accounted(con, ORDERS, load_in_zone(con, ORDERS, tmp_path, [DAY]), len(rows))
    expected = {f"O{i}": local for i, local in enumerate(ZONED.values())}
    assert stored(con, "select order_id, ordered_at from raw.sales_orders") == expected
    assert stored(con, "select order_id, updated_at from raw.sales_orders") == expected
    # The export day stays the file's day, even for the order whose own time is on the next local day.
    assert con.execute("select distinct _export_date from raw.sales_orders").fetchall() == [(DAY,)]


def test_offsets_in_json_lines_and_a_utc_deployment(tmp_path: Path) -> None:
    base = {
        "contact_id": "C1",
        "created_at": "2024-03-01T23:30:00Z",
        "updated_at": "2024-03-02T00:30:00+01:00",
    }
    write_jsonl(CONTACTS, tmp_path, DAY, base)
    berlin, utc = warehouse(tmp_path / "berlin"), warehouse(tmp_path / "utc")
    assert_accounted(berlin, CONTACTS, load_in_zone(berlin, CONTACTS, tmp_path, [DAY]), 1)
    assert_accounted(utc, CONTACTS, load_in_zone(utc, CONTACTS, tmp_path, [DAY], timezone="UTC"), 1)
    times = "select created_at, updated_at from raw.crm_contacts"
    assert berlin.execute(times).fetchall() == [(datetime(2024, 3, 2, 0, 30), datetime(2024, 3, 2, 0, 30))]
    assert utc.execute(times).fetchall() == [(datetime(2024, 3, 1, 23, 30), datetime(2024, 3, 1, 23, 30))]


def test_an_unknown_time_zone_fails_the_load_before_writing(tmp_path: Path) -> None:
    write_csv(ORDERS, tmp_path, DAY, HEADER, order("O1"))
    con = warehouse(tmp_path)
    with pytest.raises(ValueError, match="Europe/Berln"):
        load_in_zone(con, ORDERS, tmp_path, [DAY], timezone="Europe/Berln")
    assert con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw'"
    ).fetchone() == (0,)


def test_date_columns_take_a_calendar_date_and_nothing_else(tmp_path: Path) -> None:
    # No shipped contract has a DATE column yet; one that declares it gets the same strictness.
    with_birthday = dataclasses.replace(
        LOYALTY_MEMBERS, columns=(*LOYALTY_MEMBERS.columns, Column("birthday", "DATE"))
    )
    base = {
        "card_number": "L0",
        "contact_id": "C1",
        "tier": "gold",
        "enrolled_at": "2024-03-01T09:00:00",
        "updated_at": "2024-03-01T09:00:00",
    }
    values = [
        "1980-02-29",
        "1980-02-29T10:00:00",
        "infinity",
        "epoch",
        "1850-01-01",
        "1981-02-29",
        " 1980-01-01",
    ]
    write_jsonl(
        with_birthday,
        tmp_path,
        DAY,
        *({**base, "card_number": f"L{i}", "birthday": v} for i, v in enumerate(values)),
    )
    con = warehouse(tmp_path)
    assert_accounted(con, with_birthday, load_in_zone(con, with_birthday, tmp_path, [DAY]), len(values))
    assert con.execute("select card_number, birthday from raw.crm_loyalty_members").fetchall() == [
        ("L0", date(1980, 2, 29))
    ]
    assert quarantine_reasons(con, with_birthday) == {
        2: "field birthday: '1980-02-29T10:00:00' is not a valid DATE",
        3: "field birthday: 'infinity' is not a valid DATE",
        4: "field birthday: 'epoch' is not a valid DATE",
        5: "field birthday: '1850-01-01' is not a valid DATE (year outside 1900-2200)",
        6: "field birthday: '1981-02-29' is not a valid DATE",
        7: "field birthday: ' 1980-01-01' is not a valid DATE",
    }


def test_infinite_and_ancient_timestamps_in_the_shop_database_are_quarantined(postgres_url: str) -> None:
    # PostgreSQL's to_char renders infinity as NULL (a required field would read as missing, an optional
    # one as absent) and a year BC without its era (44 BC as 0044).
    with psycopg.connect(postgres_url) as connection:
        connection.execute("create schema shop")
        for contract in SALES_SOURCES:
            connection.execute(shop_table_ddl(contract))
        for order_id, ordered_at, updated_at in [
            ("O-good", "2025-05-10 09:00:00+02", "2025-05-10 09:00:00+02"),
            ("O-infinite", "infinity", "2025-05-10 10:00:00+02"),
            ("O-bc", "0044-03-15 12:00:00+00 BC", "2025-05-10 11:00:00+02"),
            ("O-open", "2025-05-10 09:00:00+02", "-infinity"),
        ]:
            connection.execute(
                "insert into shop.orders (order_id, channel, ordered_at, currency, order_total, updated_at)"
                " values (%s, 'web', %s, 'EUR', 1, %s)",
                [order_id, ordered_at, updated_at],
            )
    batches = extract_window(postgres_url, ORDERS, date(2025, 5, 10), date(2025, 5, 11), BERLIN, initial=True)
    con = duckdb.connect()
    result = load_window(con, ORDERS, batches, date(2025, 5, 10), date(2025, 5, 11), KEY, timezone=BERLIN)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 1, 3)
    reasons = dict(
        con.execute(
            "select json_extract_string(raw_record, '$.order_id'), reason from raw.quarantine"
        ).fetchall()
    )
    assert reasons["O-infinite"] == "field ordered_at: 'infinity' is not a valid TIMESTAMP"
    assert reasons["O-open"] == "field updated_at: '-infinity' is not a valid TIMESTAMP"
    assert reasons["O-bc"].startswith("field ordered_at: '0044-03-15 ") and reasons["O-bc"].endswith(
        " BC' is not a valid TIMESTAMP"
    )


# Blank values


@pytest.mark.parametrize("blank", [" ", "   ", "\t", "\u00a0", "\u3000", "\u200b", " \u2003 "])
def test_whitespace_only_values_are_missing(tmp_path: Path, blank: str) -> None:
    rows = [
        order("O1"),
        order(blank),  # the key
        order("O3", order_total=blank),
        order("O4", currency=blank, store_id=blank, updated_at=blank),  # optional: loads as NULL
    ]
    write_csv(ORDERS, tmp_path, DAY, HEADER, *rows)
    con = warehouse(tmp_path)
    assert_accounted(con, ORDERS, load_in_zone(con, ORDERS, tmp_path, [DAY]), 4)
    assert quarantine_reasons(con, ORDERS) == {
        3: "missing required field order_id",
        4: "missing required field order_total",
    }
    assert con.execute(
        "select order_id, currency, store_id, updated_at from raw.sales_orders order by 1"
    ).fetchall() == [("O1", "EUR", None, datetime(2024, 3, 1, 10)), ("O4", None, None, None)]


def test_whitespace_only_values_are_missing_in_json_lines_and_parquet(tmp_path: Path) -> None:
    base = {"contact_id": "C1", "created_at": "2024-03-01T09:00:00", "updated_at": "2024-03-01T09:00:00"}
    write_jsonl(
        CONTACTS,
        tmp_path,
        DAY,
        base,
        {**base, "contact_id": " \t "},
        {**base, "contact_id": "C3", "email": "  ", "region": "\u00a0"},
    )
    n = 2
    write_parquet(
        MARKETING_EVENTS,
        tmp_path,
        DAY,
        pa.table(
            {
                "event_id": ["E1", "  "],
                "contact_id": ["C1"] * n,
                "campaign_id": ["CMP-2024-03-01"] * n,
                "event_type": ["sent"] * n,
                "occurred_at": pa.array([datetime(2024, 3, 1, 9)] * n, pa.timestamp("us")),
            }
        ),
    )
    con = warehouse(tmp_path)
    assert_accounted(con, CONTACTS, load_in_zone(con, CONTACTS, tmp_path, [DAY]), 3)
    assert quarantine_reasons(con, CONTACTS) == {2: "missing required field contact_id"}
    assert con.execute(
        "select contact_id, email, email_hash, region from raw.crm_contacts order by 1"
    ).fetchall() == [("C1", None, None, None), ("C3", None, None, None)]
    assert_accounted(con, MARKETING_EVENTS, load_in_zone(con, MARKETING_EVENTS, tmp_path, [DAY]), 2)
    assert quarantine_reasons(con, MARKETING_EVENTS) == {2: "missing required field event_id"}


def test_blank_means_white_space_of_any_kind_and_nothing_else() -> None:
    white_space = [chr(code) for code in range(0x110000) if chr(code).isspace()]
    zero_width = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
    visible = ["a", "0", "-", ".", "_", "'", "\u00ad", "\u3001", "\x00"]
    with duckdb.connect() as con:
        matches = con.execute(
            "select list(regexp_full_match(c, ?) order by i) from unnest(?) with ordinality as t(c, i)",
            [BLANK_PATTERN, white_space + zero_width + visible],
        ).fetchone()
    assert matches == ([True] * (len(white_space) + len(zero_width)) + [False] * len(visible),)


def test_values_with_text_around_them_are_not_blank(tmp_path: Path) -> None:
    write_csv(ORDERS, tmp_path, DAY, HEADER, order(" O1 ", store_id=" S1"))
    con = warehouse(tmp_path)
    assert_accounted(con, ORDERS, load_in_zone(con, ORDERS, tmp_path, [DAY]), 1)
    # Stored as sent; staging trims identifiers.
    assert con.execute("select order_id, store_id from raw.sales_orders").fetchall() == [(" O1 ", " S1")]


# Stray files in a landing folder


def test_stray_files_are_reported_and_nothing_outside_the_window_loads(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    first = date(2024, 1, 1)  # the demo calendar's first day
    write_csv(ORDERS, landing, first, HEADER, order("O-day", ordered_at="2024-01-01T10:00:00"))
    write_csv(ORDERS, landing, date(2023, 12, 31), HEADER, order("O-before-calendar"))
    folder = ORDERS.file_for(landing, first).parent
    for name in (
        "2024-1-5.csv",
        "2024-01-05.csv.bak",
        "20240105.csv",
        "2024-W01-5.csv",
        "2024-02-30.csv",
        "notes.txt",
    ):
        (folder / name).write_text(HEADER + "\n" + order("O-stray") + "\n")
    result = dg.materialize(
        [build_landing_asset(ORDERS)],
        partition_key=first.isoformat(),
        resources={
            "landing": LandingResource(path=str(landing)),
            "warehouse": WarehouseResource(path=str(tmp_path / "warehouse.duckdb")),
            "quarantine_gate": QuarantineGateResource(max_share=0.02),
        },
    )
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["rows_read"].value == metadata["rows_loaded"].value == 1
    assert metadata["landing_files_ignored"].value == {
        "not an export day": [
            "2024-01-05.csv.bak",
            "2024-02-30.csv",
            "2024-1-5.csv",
            "2024-W01-5.csv",  # an ISO week date, which date.fromisoformat reads as 2024-01-05
            "20240105.csv",  # so does this compact form
            "notes.txt",
        ],
        "outside the calendar": ["2023-12-31.csv"],
    }
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        assert con.execute("select order_id, _export_date from raw.sales_orders").fetchall() == [
            ("O-day", first)
        ]
        assert con.execute("select count(*) from raw.quarantine").fetchone() == (0,)


def test_a_window_outside_its_files_fails_before_writing(tmp_path: Path) -> None:
    # The raw layer's own guard: a batch of a day outside the window it replaces is never written.
    write_csv(ORDERS, tmp_path, DAY, HEADER, order("O1"))
    con = warehouse(tmp_path)
    batch = read_landing_file(ORDERS, ORDERS.file_for(tmp_path, DAY), DAY)
    with pytest.raises(ValueError, match="outside the window"):
        load_window(con, ORDERS, [batch], NEXT_DAY, NEXT_DAY + timedelta(days=1), KEY, timezone=BERLIN)
    assert con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw'"
    ).fetchone() == (0,)


def test_json_dump_of_quarantined_rows_keeps_the_value_as_sent(tmp_path: Path) -> None:
    # The raw text of a quarantined row is the line as written, blanks and offsets included.
    line = {"contact_id": "C1", "created_at": "infinity", "updated_at": "2024-03-01T09:00:00Z", "region": " "}
    write_jsonl(CONTACTS, tmp_path, DAY, line)
    con = warehouse(tmp_path)
    assert_accounted(con, CONTACTS, load_in_zone(con, CONTACTS, tmp_path, [DAY]), 1)
    [(raw,)] = con.execute("select raw_record from raw.quarantine").fetchall()
    assert json.loads(raw) == line
