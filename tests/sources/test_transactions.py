"""Bring your own data: a flat transactions file -> daily orders landing files -> the raw table.

The real CDNOW sample is imported once per module and loaded the asset's way (`read_landing_file` per
day, one `load_window`) into a DuckDB file; small synthetic files pin down each rule: column mapping,
Parquet, time zones, derived order ids, rejects, re-imports, the calendar and the command line.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from landing_fixture import assert_accounted, load_days, quarantine_reasons, warehouse

from sources.config import ENV_KEYS, REPO_ROOT, Calendar, TransactionsFile
from sources.contracts import ORDERS
from sources.landing import export_day_fingerprints
from sources.transactions import ImportResult, TransactionsFileError, import_transactions, main

CDNOW_CONFIG = REPO_ROOT / "docs" / "examples" / "cdnow.yml"
CDNOW_CALENDAR = Calendar(start_date=date(1997, 1, 1), end_date=date(1998, 7, 1), timezone="America/New_York")
CDNOW_SPEC = TransactionsFile.model_validate(
    {
        "delimiter": "whitespace",
        "header": False,
        "timestamp_format": "%Y%m%d",
        "columns": {"customer_key": 1, "ordered_at": 3, "amount": 5},
    }
)
CALENDAR = Calendar(start_date=date(2024, 1, 1), end_date=date(2025, 1, 1), timezone="Europe/Berlin")
ORDERS_HEADER = "order_id,account_id,ordered_at,order_total\n"


def spec(**settings: Any) -> TransactionsFile:
    """A CSV spec with a header and columns customer, ordered_at, total; keyword arguments replace keys."""
    columns = {"customer_key": "customer", "ordered_at": "ordered_at", "amount": "total"}
    return TransactionsFile.model_validate({"columns": columns, **settings})


def run_import(
    folder: Path, source: Path, spec: TransactionsFile, calendar: Calendar = CALENDAR
) -> ImportResult:
    return import_transactions(
        source, spec, landing_dir=folder / "landing", calendar=calendar, rejects_path=folder / "rejects.csv"
    )


def write_lines(path: Path, *lines: str, encoding: str = "utf-8") -> Path:
    path.write_bytes("".join(f"{line}\n" for line in lines).encode(encoding))
    return path


def day_rows(landing: Path, day: date) -> list[dict[str, str]]:
    with ORDERS.file_for(landing, day).open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def landed_days(landing: Path) -> list[date]:
    return sorted(date.fromisoformat(p.stem) for p in (landing / "sales" / "orders").glob("*.csv"))


def rejects(folder: Path) -> list[tuple[int, str, str]]:
    with (folder / "rejects.csv").open(encoding="utf-8", newline="") as file:
        return [(int(r["line_number"]), r["raw_record"], r["reason"]) for r in csv.DictReader(file)]


# The real CDNOW sample


@dataclass(frozen=True)
class CdnowImport:
    result: ImportResult
    landing: Path
    source_lines: list[list[str]]  # the sample's lines, split: customer, number, date, CDs, dollars


@pytest.fixture(scope="module")
def cdnow(cdnow_sample_path: Path, tmp_path_factory: pytest.TempPathFactory) -> CdnowImport:
    folder = tmp_path_factory.mktemp("cdnow")
    result = run_import(folder, cdnow_sample_path, CDNOW_SPEC, CDNOW_CALENDAR)
    lines = [line.split() for line in cdnow_sample_path.read_text(encoding="ascii").splitlines()]
    return CdnowImport(result, folder / "landing", lines)


def test_cdnow_sample_lands_every_line_on_its_day(cdnow: CdnowImport) -> None:
    result, landing = cdnow.result, cdnow.landing
    assert len(cdnow.source_lines) == 6919
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (6919, 6919, 0)
    assert result.rejects_file is None
    days = landed_days(landing)
    assert len(days) == 546 == (date(1998, 6, 30) - date(1997, 1, 1)).days + 1
    assert (days[0], days[-1]) == (result.first_day, result.last_day) == (date(1997, 1, 1), date(1998, 6, 30))
    assert result.inside_calendar
    rows = [row for day in days for row in day_rows(landing, day)]
    assert len(rows) == 6919
    assert len({row["order_id"] for row in rows}) == 6919
    accounts = {row["account_id"] for row in rows}
    assert len(accounts) == 2357
    assert "00004" in accounts and all(len(a) == 5 for a in accounts)  # leading zeros kept
    assert sum(Decimal(row["order_total"]) for row in rows) == sum(
        Decimal(line[4]) for line in cdnow.source_lines
    )
    assert sum(Decimal(row["order_total"]) for row in rows) == Decimal("244091.94")


def test_cdnow_quiet_days_are_header_only_files(cdnow: CdnowImport) -> None:
    order_days = {datetime.strptime(line[2], "%Y%m%d").date() for line in cdnow.source_lines}
    quiet = [day for day in landed_days(cdnow.landing) if day not in order_days]
    assert quiet == list(cdnow.result.quiet_days) and quiet  # the sample has a day without purchases
    for day in quiet:
        assert ORDERS.file_for(cdnow.landing, day).read_text(encoding="utf-8") == ORDERS_HEADER


def test_cdnow_landing_files_load_every_order(cdnow: CdnowImport, tmp_path: Path) -> None:
    con = warehouse(tmp_path)
    result = load_days(con, ORDERS, cdnow.landing, landed_days(cdnow.landing))
    assert_accounted(con, ORDERS, result, 6919)
    assert (result.rows_loaded, result.rows_quarantined) == (6919, 0)
    orders, accounts, total, zeros = con.execute(
        "select count(distinct order_id), count(distinct account_id), sum(order_total), "
        "count(*) filter (where account_id = '00004') from raw.sales_orders"
    ).fetchone()  # type: ignore[misc]
    assert (orders, accounts, total, zeros) == (6919, 2357, Decimal("244091.94"), 4)
    assert con.execute(
        "select count(*) from raw.sales_orders where _export_date <> cast(ordered_at as date)"
    ).fetchone() == (0,)


def test_cdnow_reimport_writes_nothing(cdnow: CdnowImport, cdnow_sample_path: Path) -> None:
    before = export_day_fingerprints(cdnow.landing, (ORDERS,))  # what the landing sensor compares
    again = run_import(cdnow.landing.parent, cdnow_sample_path, CDNOW_SPEC, CDNOW_CALENDAR)
    assert (again.days_written, len(again.days_unchanged)) == ((), 546)
    assert export_day_fingerprints(cdnow.landing, (ORDERS,)) == before


# Reading files


def test_header_csv_maps_columns_by_name_and_keeps_values_as_sent(tmp_path: Path) -> None:
    source = write_lines(
        tmp_path / "export.csv",
        "\ufeffBestellung;Kunde;Datum;Betrag;Währung;Filiale",  # a byte-order mark and an unmapped column
        "B-1;0042;2024-03-01 10:00:00;12.50;EUR;Köln",
        'B-2;"Müller; Anna";2024-03-01 11:00:00;100;CHF;Bonn',
        "B-3;0042;2024-03-02 09:30:00;7.5;EUR;Köln",
    )
    columns = {"order_id": "Bestellung", "customer_key": "Kunde", "ordered_at": "Datum", "amount": "Betrag"}
    settings = {"delimiter": ";", "columns": {**columns, "currency": "Währung"}}
    result = run_import(tmp_path, source, TransactionsFile.model_validate(settings))
    landing = tmp_path / "landing"
    assert ORDERS.file_for(landing, date(2024, 3, 1)).read_text(encoding="utf-8") == (
        "order_id,account_id,ordered_at,order_total,currency\n"
        "B-1,0042,2024-03-01 10:00:00,12.50,EUR\n"
        "B-2,Müller; Anna,2024-03-01 11:00:00,100,CHF\n"
    )
    assert day_rows(landing, date(2024, 3, 2)) == [
        {
            "order_id": "B-3",
            "account_id": "0042",
            "ordered_at": "2024-03-02 09:30:00",
            "order_total": "7.5",
            "currency": "EUR",
        }
    ]
    assert (result.rows_written, result.rows_rejected) == (3, 0)
    con = warehouse(tmp_path)
    loaded = load_days(con, ORDERS, landing, [date(2024, 3, 1), date(2024, 3, 2)])
    assert_accounted(con, ORDERS, loaded, 3)
    assert con.execute("select account_id, currency from raw.sales_orders order by order_id").fetchall() == [
        ("0042", "EUR"),
        ("Müller; Anna", "CHF"),
        ("0042", "EUR"),
    ]


def test_values_needing_quotes_are_quoted_and_load_unchanged(tmp_path: Path) -> None:
    source = write_lines(
        tmp_path / "export.csv",
        "customer,ordered_at,total",
        '"Smith, ""Jo""",2024-03-01,5.00',
    )
    run_import(tmp_path, source, spec())
    assert ORDERS.file_for(tmp_path / "landing", date(2024, 3, 1)).read_text(encoding="utf-8").splitlines()[
        1
    ] == ('"Smith, ""Jo""-20240301000000","Smith, ""Jo""",2024-03-01 00:00:00,5.00')
    con = warehouse(tmp_path)
    assert_accounted(con, ORDERS, load_days(con, ORDERS, tmp_path / "landing", [date(2024, 3, 1)]), 1)
    assert con.execute("select account_id from raw.sales_orders").fetchall() == [('Smith, "Jo"',)]


def test_parquet_file_is_read_by_column_name_as_canonical_text(tmp_path: Path) -> None:
    utc = UTC
    table = pa.table(
        {
            "customer": pa.array(["00017", "00017", "00023"], pa.string()),
            "paid_at": pa.array(
                [
                    datetime(2024, 3, 1, 9, 0, tzinfo=utc),
                    datetime(2024, 3, 1, 23, 30, tzinfo=utc),
                    datetime(2024, 3, 4, 8, 0, tzinfo=utc),
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "total": pa.array([Decimal("12.50"), Decimal("100.00"), Decimal("3.10")], pa.decimal128(12, 2)),
        }
    )
    source = tmp_path / "export.parquet"
    pq.write_table(table, source)
    columns = {"customer_key": "customer", "ordered_at": "paid_at", "amount": "total"}
    result = run_import(
        tmp_path, source, TransactionsFile.model_validate({"format": "parquet", "columns": columns})
    )
    landing = tmp_path / "landing"
    # UTC 23:30 is 00:30 the next day in Berlin; decimals are written without exponent or padding
    assert day_rows(landing, date(2024, 3, 1)) == [
        {
            "order_id": "00017-20240301100000",
            "account_id": "00017",
            "ordered_at": "2024-03-01 10:00:00",
            "order_total": "12.5",
        }
    ]
    assert [r["order_total"] for r in day_rows(landing, date(2024, 3, 2))] == ["100"]
    assert day_rows(landing, date(2024, 3, 3)) == []
    assert (result.rows_written, result.first_day, result.last_day) == (3, date(2024, 3, 1), date(2024, 3, 4))
    con = warehouse(tmp_path)
    assert_accounted(con, ORDERS, load_days(con, ORDERS, landing, landed_days(landing)), 3)


def test_parquet_rows_without_a_timestamp_are_rejected_as_json(tmp_path: Path) -> None:
    table = pa.table(
        {
            "customer": pa.array([4, 5], pa.int64()),
            "ordered_at": pa.array([date(2024, 3, 1), None], pa.date32()),
            "total": pa.array([12.5, 3.0], pa.float64()),
        }
    )
    source = tmp_path / "export.parquet"
    pq.write_table(table, source)
    result = run_import(tmp_path, source, spec(format="parquet"))
    assert day_rows(tmp_path / "landing", date(2024, 3, 1)) == [
        {
            "order_id": "4-20240301000000",
            "account_id": "4",
            "ordered_at": "2024-03-01 00:00:00",
            "order_total": "12.5",
        }
    ]
    assert (result.rows_read, result.rows_written) == (2, 1)
    assert rejects(tmp_path) == [
        (2, '{"customer":5,"ordered_at":null,"total":3.0}', "ordered_at (column 'ordered_at'): missing")
    ]


def test_iso_timestamps_with_offsets_are_converted_to_the_calendar_zone(tmp_path: Path) -> None:
    source = write_lines(
        tmp_path / "export.csv",
        "customer,ordered_at,total",
        "C1,2024-03-31T23:30:00Z,1.00",  # Berlin is on summer time (UTC+2) from 31 March 02:00
        "C2,2024-03-31T10:00:00+01:00,2.00",
        "C3,2024-03-31 10:00:00,3.00",  # naive: Berlin time already
        "C4,2024-03-31,4.00",  # a date: midnight
        "C5,2024-03-31T18:00:00.250-05:00,5.00",  # New York -> Berlin, with a fraction
    )
    run_import(tmp_path, source, spec())
    landing = tmp_path / "landing"
    on_31 = {r["account_id"]: r["ordered_at"] for r in day_rows(landing, date(2024, 3, 31))}
    assert on_31 == {"C2": "2024-03-31 11:00:00", "C3": "2024-03-31 10:00:00", "C4": "2024-03-31 00:00:00"}
    on_1 = {r["account_id"]: (r["order_id"], r["ordered_at"]) for r in day_rows(landing, date(2024, 4, 1))}
    assert on_1 == {
        "C1": ("C1-20240401013000", "2024-04-01 01:30:00"),
        "C5": ("C5-20240401010000", "2024-04-01 01:00:00.250000"),
    }


def test_repeated_customer_and_timestamp_get_numbered_order_ids(tmp_path: Path) -> None:
    source = write_lines(
        tmp_path / "cdnow.txt",
        " 00004 0001 19970101  2   29.33",
        "00004\t0001\t19970101\t1\t10.00",  # tabs are whitespace too
        " 00007 0002 19970101  1   11.77",
        " 00004 0001 19970101  3   5.10",
        " 00004 0001 19970102  1   6.79",
    )
    result = run_import(tmp_path, source, CDNOW_SPEC, CDNOW_CALENDAR)
    landing = tmp_path / "landing"
    ids = [r["order_id"] for day in landed_days(landing) for r in day_rows(landing, day)]
    assert ids == [
        "00004-19970101000000",
        "00004-19970101000000-2",
        "00007-19970101000000",
        "00004-19970101000000-3",
        "00004-19970102000000",
    ]
    assert result.rows_written == 5
    first = {day: ORDERS.file_for(landing, day).read_bytes() for day in landed_days(landing)}
    run_import(tmp_path, source, CDNOW_SPEC, CDNOW_CALENDAR)
    assert {day: ORDERS.file_for(landing, day).read_bytes() for day in landed_days(landing)} == first
    con = warehouse(tmp_path)
    assert_accounted(con, ORDERS, load_days(con, ORDERS, landing, landed_days(landing)), 5)


def test_rows_that_cannot_be_placed_are_rejected_with_line_numbers_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    source = write_lines(
        tmp_path / "export.csv",
        "00001,19970101,10.00",
        "00002,1997-01-01,5.00",  # not the declared format
        "00003,19970102",  # a field short
        ",19970102,3.00",  # no customer
        "00004,19970103,",  # no amount: still an order, the loader quarantines it
        "00005,19971301,1.00",  # month 13
        ",,2.00",
        "00006,19970103,12,5O",
    )
    settings = {
        "header": False,
        "timestamp_format": "%Y%m%d",
        "columns": {"customer_key": 1, "ordered_at": 2, "amount": 3},
    }
    result = run_import(tmp_path, source, TransactionsFile.model_validate(settings), CDNOW_CALENDAR)
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (8, 2, 6)
    assert result.rejects_file == tmp_path / "rejects.csv"
    assert rejects(tmp_path) == [
        (
            2,
            "00002,1997-01-01,5.00",
            "ordered_at (column 2): '1997-01-01' is not a timestamp in format %Y%m%d",
        ),
        (3, "00003,19970102", "expected 3 fields, found 2"),
        (4, ",19970102,3.00", "customer_key (column 1): missing"),
        (6, "00005,19971301,1.00", "ordered_at (column 2): '19971301' is not a timestamp in format %Y%m%d"),
        (7, ",,2.00", "customer_key (column 1): missing; ordered_at (column 2): missing"),
        (8, "00006,19970103,12,5O", "expected 3 fields, found 4"),
    ]
    assert "6 rejected (lines and reasons in" in result.report()
    landing = tmp_path / "landing"
    assert landed_days(landing) == [date(1997, 1, 1), date(1997, 1, 2), date(1997, 1, 3)]
    con = warehouse(tmp_path)
    loaded = load_days(con, ORDERS, landing, landed_days(landing))
    assert_accounted(con, ORDERS, loaded, 2)
    assert quarantine_reasons(con, ORDERS) == {2: "missing required field order_total"}


def test_reimport_writes_nothing_and_a_changed_day_is_replaced_whole(tmp_path: Path) -> None:
    lines = ["customer,ordered_at,total", "C1,2024-03-01,1.00", "C2,2024-03-01,2.00", "C1,2024-03-03,3.00"]
    source = write_lines(tmp_path / "export.csv", *lines)
    landing = tmp_path / "landing"
    first = run_import(tmp_path, source, spec())
    assert (first.days_written, first.quiet_days) == (
        (date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)),
        (date(2024, 3, 2),),
    )
    stats = {p.name: p.stat().st_mtime_ns for p in (landing / "sales" / "orders").iterdir()}
    fingerprints = export_day_fingerprints(landing, (ORDERS,))

    again = run_import(tmp_path, source, spec())
    assert (again.days_written, len(again.days_unchanged)) == ((), 3)
    assert "0 written, 3 unchanged" in again.report()
    assert {p.name: p.stat().st_mtime_ns for p in (landing / "sales" / "orders").iterdir()} == stats
    assert export_day_fingerprints(landing, (ORDERS,)) == fingerprints

    write_lines(source, *lines[:2], "C3,2024-03-01,4.00", lines[3])  # 1 March re-delivered: C2 is gone
    changed = run_import(tmp_path, source, spec())
    assert (changed.days_written, changed.days_unchanged) == (
        (date(2024, 3, 1),),
        (date(2024, 3, 2), date(2024, 3, 3)),
    )
    assert [r["account_id"] for r in day_rows(landing, date(2024, 3, 1))] == ["C1", "C3"]


def test_a_rejects_file_describes_the_latest_import_only(tmp_path: Path) -> None:
    source = write_lines(
        tmp_path / "export.csv", "customer,ordered_at,total", "C1,2024-03-01,1.00", "C2,soon,2.00"
    )
    assert run_import(tmp_path, source, spec()).rejects_file == tmp_path / "rejects.csv"
    write_lines(source, "customer,ordered_at,total", "C1,2024-03-01,1.00", "C2,2024-03-02,2.00")
    assert run_import(tmp_path, source, spec()).rejects_file is None
    assert not (tmp_path / "rejects.csv").exists()


def test_days_outside_the_calendar_are_written_and_reported(tmp_path: Path) -> None:
    source = write_lines(
        tmp_path / "export.csv",
        "customer,ordered_at,total",
        "C1,2023-12-31,1.00",
        "C1,2024-01-15,1.00",
        "C2,2024-02-02,1.00",
    )
    january = Calendar(start_date=date(2024, 1, 1), end_date=date(2024, 2, 1), timezone="Europe/Berlin")
    result = run_import(tmp_path, source, spec(), january)
    assert not result.inside_calendar
    assert result.days_outside_calendar == (date(2023, 12, 31), date(2024, 2, 2))
    assert "2 days fall outside [2024-01-01, 2024-02-01): 2023-12-31, 2024-02-02" in result.report()
    assert "will not load until the calendar is widened" in result.report()
    assert landed_days(tmp_path / "landing")[0] == date(2023, 12, 31)  # written all the same
    assert date(2024, 1, 1) not in landed_days(tmp_path / "landing")  # quiet days fill the calendar only
    inside = run_import(
        tmp_path, source, spec(), CALENDAR.model_copy(update={"start_date": date(2023, 1, 1)})
    )
    assert inside.inside_calendar and "every day is inside" in inside.report()


@pytest.mark.parametrize(
    ("name", "content", "settings", "error"),
    [
        ("absent.csv", None, {}, r"absent\.csv: no such file"),
        ("empty.csv", b"", {}, r"empty\.csv: empty file"),
        (
            "latin1.csv",
            "customer,ordered_at,total\nC1,2024-03-01,1.00\nKöln,2024-03-01,1.00\n".encode("latin-1"),
            {},
            r"latin1\.csv: not valid utf-8 at byte 46 \(line 3\)",
        ),
        (
            "export.csv",
            b"customer,ordered_at,total\nC1,2024-03-01,1.00\n",
            {"format": "parquet"},
            r"export\.csv: not a readable Parquet file",
        ),
        (
            "renamed.csv",
            b"customer,ordered_at,amount\nC1,2024-03-01,1.00\n",
            {},
            r"renamed\.csv: line 1 \(the header\) has no column for amount \('total'\)",
        ),
        (
            "cdnow.txt",
            b" 00004 0001 19970101  2   29.33\n",
            {"header": False, "columns": {"customer_key": 1, "ordered_at": 3, "amount": 5}},
            r"cdnow\.txt: the rows have 1 fields \(delimiter ','\), so there is no ordered_at \(column 3\), amount \(column 5\)",
        ),
    ],
)
def test_a_file_that_cannot_be_read_fails_naming_it_before_writing(
    tmp_path: Path, name: str, content: bytes | None, settings: dict[str, Any], error: str
) -> None:
    source = tmp_path / name
    if content is not None:
        source.write_bytes(content)
    with pytest.raises(TransactionsFileError, match=error):
        run_import(tmp_path, source, spec(**settings))
    assert not (tmp_path / "landing").exists()


# The command line


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No configuration override of the developer's shell leaks into a test."""
    for name in [*ENV_KEYS, "CLIENTELE_CONFIG", *(n for n in os.environ if n.startswith("CLIENTELE__"))]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


CLI_CONFIG = """
calendar: {start_date: 2024-01-01, end_date: 2025-01-01, timezone: Europe/Berlin}
currency: {default: EUR}
paths: {data_dir: data}
transactions:
  columns: {customer_key: customer, ordered_at: ordered_at, amount: total}
"""


def use_cli_config(folder: Path, environment: pytest.MonkeyPatch) -> None:
    """`CLI_CONFIG` written to `folder` and named by CLIENTELE_CONFIG, its data folder `folder/data`."""
    config = folder / "clientele.yml"
    config.write_text(CLI_CONFIG, encoding="utf-8")
    environment.setenv("CLIENTELE_CONFIG", str(config))


def test_cli_imports_into_the_configured_folders(
    tmp_path: Path, clean_environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_cli_config(tmp_path, clean_environment)
    source = write_lines(
        tmp_path / "export.csv", "customer,ordered_at,total", "C1,2024-03-01,1.00", "C2,never,2.00"
    )
    assert main([str(source)]) == 0
    data = tmp_path / "data"
    rejects_file = data / "imports" / "export.csv.rejected.csv"
    assert capsys.readouterr().out.splitlines() == [
        f"{source} -> {data / 'landing' / 'sales' / 'orders'}",
        f"rows: 2 read, 1 written to day files, 1 rejected (lines and reasons in {rejects_file})",
        "days: 1 from 2024-03-01 to 2024-03-01 (0 without orders): 1 written, 0 unchanged",
        "calendar: every day is inside [2024-01-01, 2025-01-01)",
    ]
    assert ORDERS.file_for(data / "landing", date(2024, 3, 1)).is_file() and rejects_file.is_file()
    elsewhere = tmp_path / "elsewhere"
    assert main([str(source), "--landing", str(elsewhere), "--rejects", str(elsewhere / "r.csv")]) == 0
    assert ORDERS.file_for(elsewhere, date(2024, 3, 1)).is_file() and (elsewhere / "r.csv").is_file()


def test_declared_days_deliver_quiet_days_at_the_edges(
    tmp_path: Path, clean_environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A March export whose last days were quiet: without --through, March 30 and 31 would never get a file
    # and the loads of those days would fail as missing exports.
    use_cli_config(tmp_path, clean_environment)
    source = write_lines(
        tmp_path / "march.csv", "customer,ordered_at,total", "C1,2024-03-02,1.00", "C2,2024-03-29,2.00"
    )
    assert main([str(source), "--from", "2024-03-01", "--through", "2024-03-31"]) == 0
    landing = tmp_path / "data" / "landing"
    assert landed_days(landing) == [date(2024, 3, 1) + timedelta(days=n) for n in range(31)]
    assert day_rows(landing, date(2024, 3, 31)) == []
    assert "days: 31 from 2024-03-01 to 2024-03-31 (29 without orders)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("config", "file_exists", "message"),
    [
        (CLI_CONFIG, False, r"error: .*missing\.csv: no such file"),
        (
            CLI_CONFIG.split("transactions:")[0],
            True,
            r"has no `transactions` section.*docs/examples/cdnow\.yml",
        ),
        (
            CLI_CONFIG.replace("Europe/Berlin", "Europe/Berlim"),
            True,
            r"calendar\.timezone: not an IANA time zone",
        ),
    ],
    ids=["missing-file", "no-transactions-section", "invalid-config"],
)
def test_cli_fails_with_exit_code_2_and_a_message(
    tmp_path: Path,
    clean_environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config: str,
    file_exists: bool,
    message: str,
) -> None:
    (tmp_path / "clientele.yml").write_text(config, encoding="utf-8")
    clean_environment.setenv("CLIENTELE_CONFIG", str(tmp_path / "clientele.yml"))
    source = tmp_path / "missing.csv"
    if file_exists:
        write_lines(source, "customer,ordered_at,total", "C1,2024-03-01,1.00")
    assert main([str(source)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert re.search(message, captured.err, flags=re.DOTALL)
    assert not (tmp_path / "data").exists()


def test_cli_runs_as_a_module_on_the_cdnow_sample(
    cdnow_sample_path: Path, tmp_path: Path, clean_environment: pytest.MonkeyPatch
) -> None:
    env = {**os.environ, "CLIENTELE_CONFIG": str(CDNOW_CONFIG), "CLIENTELE_DATA_DIR": str(tmp_path)}
    completed = subprocess.run(
        [sys.executable, "-m", "sources.transactions", str(cdnow_sample_path)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "rows: 6,919 read, 6,919 written to day files, 0 rejected" in completed.stdout
    assert "days: 546 from 1997-01-01 to 1998-06-30 (1 without orders): 546 written" in completed.stdout
    assert len(landed_days(tmp_path / "landing")) == 546
    assert not (tmp_path / "imports").exists()  # nothing rejected, no rejects file


def test_a_mistyped_year_lands_one_day_not_centuries_of_quiet_ones(tmp_path: Path) -> None:
    source = write_lines(
        tmp_path / "export.csv",
        "customer,ordered_at,total",
        "C1,2024-03-01,1.00",
        "C2,2204-03-02,2.00",
        "C3,2024-03-03,3.00",
    )
    result = run_import(tmp_path, source, spec(), CALENDAR.model_copy(update={"end_date": None}))
    assert landed_days(tmp_path / "landing") == [
        date(2024, 3, 1),
        date(2024, 3, 2),
        date(2024, 3, 3),
        date(2204, 3, 2),
    ]
    assert result.days_outside_calendar == (date(2204, 3, 2),)
    assert "2204-03-02; their files are written but will not load" in result.report()
