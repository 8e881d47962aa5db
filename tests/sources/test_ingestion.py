"""Landing files -> raw tables: every record loaded or quarantined with a reason, windows replaced whole."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from sources.contracts import CONTACTS, ORDERS
from sources.landing import LandingFileError, read_landing_file
from sources.pii import keyed_hash, normalise_email, normalise_phone
from sources.raw_tables import load_window

KEY = b"test-key"
DAY = date(2024, 3, 1)
NEXT_DAY = date(2024, 3, 2)
HEADER = (
    "order_id,account_id,guest_email,loyalty_card,channel,store_id,ordered_at,currency,order_total,updated_at"
)


def write_orders(folder: Path, day: date, *rows: str, header: str = HEADER, encoding: str = "utf-8") -> Path:
    path = ORDERS.file_for(folder, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)
    return path


def load(con: duckdb.DuckDBPyConnection, folder: Path, days: list[date]):
    files = [read_landing_file(ORDERS, ORDERS.file_for(folder, d), d) for d in days]
    return load_window(con, ORDERS, files, days[0], days[-1] + timedelta(days=1), KEY)


GOOD = "O1,A1,,,web,,2024-03-01T10:00:00,EUR,12.50,2024-03-01T10:00:00"


def test_bad_rows_are_quarantined_with_line_and_reason(tmp_path: Path) -> None:
    write_orders(
        tmp_path,
        DAY,
        GOOD,
        "O2,,x@example.com,,web,,2024-03-01T11:00:00,EUR,12,5O,2024-03-01T11:00:00",  # extra field
        "O3,,,,web,,31/02/2025 10:00,EUR,3.00,2024-03-01T11:00:00",  # bad timestamp
        ",,,,store,S1,2024-03-01T11:00:00,EUR,3.00,2024-03-01T11:00:00",  # missing key
        "O5,,,,store,S1,2024-03-01T11:00:00,EUR,abc,2024-03-01T11:00:00",  # bad amount
    )
    con = duckdb.connect()
    result = load(con, tmp_path, [DAY])
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (5, 1, 4)
    quarantined = con.execute(
        "select line_number, reason from raw.quarantine order by line_number"
    ).fetchall()
    assert [line for line, _ in quarantined] == [3, 4, 5, 6]
    reasons = dict(quarantined)
    assert reasons[3] == "expected 10 fields, found 11"
    assert "ordered_at" in reasons[4] and "31/02/2025" in reasons[4]
    assert reasons[5] == "missing required field order_id"
    assert "order_total" in reasons[6] and "'abc'" in reasons[6]


def test_rerunning_a_window_replaces_it_and_never_doubles(tmp_path: Path) -> None:
    write_orders(tmp_path, DAY, GOOD, "bad,row")
    write_orders(tmp_path, NEXT_DAY, GOOD.replace("O1", "O9"))
    con = duckdb.connect()
    load(con, tmp_path, [DAY, NEXT_DAY])
    first = con.execute("select * exclude (_loaded_at) from raw.sales_orders order by all").fetchall()
    load(con, tmp_path, [DAY])
    load(con, tmp_path, [DAY, NEXT_DAY])
    assert con.execute("select * exclude (_loaded_at) from raw.sales_orders order by all").fetchall() == first
    assert con.execute("select count(*) from raw.quarantine").fetchone() == (1,)


def test_missing_required_column_fails_before_anything_is_written(tmp_path: Path) -> None:
    write_orders(tmp_path, DAY, GOOD)
    con = duckdb.connect()
    load(con, tmp_path, [DAY])
    write_orders(tmp_path, DAY, "O1,A1,web", header="order_id,account_id,channel")
    with pytest.raises(LandingFileError, match=r"2024-03-01\.csv: required columns missing: .*ordered_at"):
        load(con, tmp_path, [DAY])
    assert con.execute("select order_id from raw.sales_orders").fetchall() == [("O1",)]


def test_missing_export_file_names_the_expected_path(tmp_path: Path) -> None:
    with pytest.raises(LandingFileError, match=r"no export for 2024-03-01 .*orders/2024-03-01\.csv"):
        read_landing_file(ORDERS, ORDERS.file_for(tmp_path, DAY), DAY)


def test_bom_and_added_column_are_handled(tmp_path: Path) -> None:
    write_orders(tmp_path, DAY, GOOD + ",extra", header=HEADER + ",coupon_code", encoding="utf-8-sig")
    parsed = read_landing_file(ORDERS, ORDERS.file_for(tmp_path, DAY), DAY)
    assert parsed.added_columns == ("coupon_code",)
    assert parsed.records().column("order_id").to_pylist() == ["O1"]


def test_unclosed_quote_is_quarantined_not_lost(tmp_path: Path) -> None:
    write_orders(tmp_path, DAY, GOOD, 'O2,,,,store,S1,2024-03-01T11:00:00,EUR,"3.00,2024-03-01T11:00:00')
    con = duckdb.connect()
    result = load(con, tmp_path, [DAY])
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    (raw,) = con.execute("select raw_record from raw.quarantine").fetchone()  # type: ignore[misc]
    assert raw.startswith("O2,")


def test_jsonl_invalid_lines_and_types_are_quarantined(tmp_path: Path) -> None:
    path = CONTACTS.file_for(tmp_path, DAY)
    path.parent.mkdir(parents=True)
    good = {
        "contact_id": "C1",
        "email": " Jane.Doe@Example.com ",
        "phone": "(555) 123-4567",
        "marketing_consent": True,
        "created_at": "2024-03-01T09:00:00",
        "updated_at": "2024-03-01T09:00:00",
    }
    lines = [
        json.dumps(good),
        '{"contact_id": "C2", "email": ',
        json.dumps({**good, "marketing_consent": "maybe"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    con = duckdb.connect()
    parsed = read_landing_file(CONTACTS, path, DAY)
    result = load_window(con, CONTACTS, [parsed], DAY, NEXT_DAY, KEY)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 1, 2)
    email_hash, phone_hash, consent = con.execute(
        "select email_hash, phone_hash, marketing_consent from raw.crm_contacts"
    ).fetchone()  # type: ignore[misc]
    assert email_hash == keyed_hash("jane.doe@example.com", KEY)
    assert phone_hash == keyed_hash("+15551234567", KEY)
    assert consent is True
    reasons = [r for (r,) in con.execute("select reason from raw.quarantine order by line_number").fetchall()]
    assert reasons[0].startswith("invalid JSON")
    assert "marketing_consent" in reasons[1]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 555 123 4567", "+15551234567"),
        ("(555) 123-4567", "+15551234567"),
        ("555.123.4567", "+15551234567"),
        ("15551234567", "+15551234567"),
        ("12", None),
        (None, None),
    ],
)
def test_phone_normalisation(raw: str | None, expected: str | None) -> None:
    assert normalise_phone(raw) == expected


def test_email_normalisation_ignores_case_and_whitespace() -> None:
    assert normalise_email("  Jane.DOE@Example.COM ") == normalise_email("jane.doe@example.com")
    assert normalise_email("not an email") is None


def test_values_that_would_change_on_the_way_in_are_quarantined(tmp_path: Path) -> None:
    # TRY_CAST alone reads 'yes' as true and rounds 12.345 to 12.35: the contract must not.
    write_orders(
        tmp_path,
        DAY,
        GOOD,
        "O2,,,,store,S1,2024-03-01T11:00:00,EUR,12.345,2024-03-01T11:00:00",
        "O3,,,,store,S1,2024-03-01T11:00:00,EUR,-4.5,2024-03-01T11:00:00",
    )
    con = duckdb.connect()
    result = load(con, tmp_path, [DAY])
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    [(reason,)] = con.execute("select reason from raw.quarantine").fetchall()
    assert "'12.345' is not a valid DECIMAL(12,2)" in reason
    path = CONTACTS.file_for(tmp_path, DAY)
    path.parent.mkdir(parents=True)
    base = {"contact_id": "C1", "created_at": "2024-03-01T09:00:00", "updated_at": "2024-03-01T09:00:00"}
    path.write_text(json.dumps({**base, "marketing_consent": "yes"}) + "\n")
    result = load_window(con, CONTACTS, [read_landing_file(CONTACTS, path, DAY)], DAY, NEXT_DAY, KEY)
    assert (result.rows_loaded, result.rows_quarantined) == (0, 1)
