"""The bad-input catalogue (docs/reliability.md): each case as real files, loaded the asset's way into DuckDB.

Every test writes exports into a temporary landing folder, reads them with `read_landing_file`, loads
them with `load_window` into a DuckDB file and checks that records written = rows loaded + rows
quarantined, or, for a file that cannot be loaded at all, that the load fails before writing and the
previous load of that day is still there unchanged.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from landing_fixture import (
    KEY,
    assert_accounted,
    load_days,
    quarantine_reasons,
    snapshot,
    warehouse,
    write_csv,
    write_jsonl,
    write_parquet,
    write_text,
)

from sources.contracts import (
    CONTACTS,
    LOYALTY_MEMBERS,
    MARKETING_EVENTS,
    ORDER_LINES,
    ORDERS,
    FileFormat,
    SourceContract,
)
from sources.landing import LandingFileError, changed_days, export_day_fingerprints
from sources.pii import keyed_hash

DAY = date(2024, 3, 1)
NEXT_DAY = date(2024, 3, 2)
LATER_DAY = date(2024, 3, 5)
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


def contact(contact_id: str, /, **values: object) -> dict[str, object]:
    """A valid contact JSON object; keyword arguments replace or add members."""
    return {
        "contact_id": contact_id,
        "email": f"{contact_id.lower()}@example.com",
        "marketing_consent": True,
        "created_at": "2024-03-01T09:00:00",
        "updated_at": "2024-03-01T09:00:00",
        **values,
    }


def events(*event_ids: str | None, **columns: pa.Array) -> pa.Table:
    """A typed marketing events export, as the CRM writes it; keyword arguments replace or add columns."""
    n = len(event_ids)
    table = {
        "event_id": pa.array(event_ids, pa.string()),
        "contact_id": pa.array(["C1"] * n, pa.string()),
        "campaign_id": pa.array(["CMP-2024-03-01"] * n, pa.string()),
        "event_type": pa.array(["sent"] * n, pa.string()),
        "occurred_at": pa.array([datetime(2024, 3, 1, 9, 0, 5)] * n, pa.timestamp("us")),
        **columns,
    }
    return pa.table(table)


def fails_before_writing(tmp_path: Path, contract: SourceContract, error: str) -> None:
    """Load the day's current file and expect `error`, with the previous load left exactly as it was."""
    con = warehouse(tmp_path)
    before = snapshot(con, contract)
    assert before["raw"], "the test must first load a good version of the day"
    with pytest.raises(LandingFileError, match=error):
        load_days(con, contract, tmp_path, [DAY])
    assert snapshot(con, contract) == before


def load_good_orders(tmp_path: Path) -> None:
    write_csv(ORDERS, tmp_path, DAY, HEADER, order("O1"), order("O2"))
    with warehouse(tmp_path) as con:
        load_days(con, ORDERS, tmp_path, [DAY])


# Structure of CSV files


def test_csv_rows_with_too_many_or_too_few_fields_are_quarantined(tmp_path: Path) -> None:
    write_csv(ORDERS, tmp_path, DAY, HEADER, order("O1"), order("O2") + ",manual correction", "O3,A1,web")
    con = warehouse(tmp_path)
    result = load_days(con, ORDERS, tmp_path, [DAY])
    assert_accounted(con, ORDERS, result, 3)
    assert quarantine_reasons(con, ORDERS) == {
        3: "expected 10 fields, found 11",
        4: "expected 10 fields, found 3",
    }


def test_unclosed_quote_costs_one_line_not_the_rest_of_the_file(tmp_path: Path) -> None:
    stray_quote = order("O2", store_id='"S1')
    write_csv(ORDERS, tmp_path, DAY, HEADER, order("O1"), stray_quote, order("O3"), order("O4"))
    con = warehouse(tmp_path)
    result = load_days(con, ORDERS, tmp_path, [DAY])
    assert_accounted(con, ORDERS, result, 4)
    assert [o for (o,) in con.execute("select order_id from raw.sales_orders order by 1").fetchall()] == [
        "O1",
        "O3",
        "O4",
    ]
    [(line, raw, reason)] = con.execute(
        "select line_number, raw_record, reason from raw.quarantine"
    ).fetchall()
    assert (line, raw) == (3, stray_quote)
    assert reason.startswith("unclosed quote")


def test_file_with_the_wrong_delimiter_fails_before_writing(tmp_path: Path) -> None:
    load_good_orders(tmp_path)
    write_csv(ORDERS, tmp_path, DAY, HEADER.replace(",", ";"), order("O1").replace(",", ";"))
    fails_before_writing(
        tmp_path, ORDERS, r"2024-03-01\.csv: required columns missing: order_id, .*looks delimited by ';'"
    )


def test_declared_delimiter_and_quote_character_are_honoured(tmp_path: Path) -> None:
    semicolons = dataclasses.replace(ORDERS, delimiter=";", quote_char="'")
    row = order("O1", store_id="'Store; Main St'").replace(",", ";")
    write_csv(semicolons, tmp_path, DAY, HEADER.replace(",", ";"), row)
    con = warehouse(tmp_path)
    result = load_days(con, semicolons, tmp_path, [DAY])
    assert_accounted(con, semicolons, result, 1)
    assert con.execute("select store_id, order_total from raw.sales_orders").fetchall() == [
        ("Store; Main St", Decimal("12.50"))
    ]


# Encodings


def test_utf8_file_with_byte_order_mark_loads(tmp_path: Path) -> None:
    content = "\ufeff" + "\n".join([HEADER, order("O1", store_id="Zürich")]) + "\n"
    write_text(ORDERS, tmp_path, DAY, content)
    con = warehouse(tmp_path)
    result = load_days(con, ORDERS, tmp_path, [DAY])
    assert_accounted(con, ORDERS, result, 1)
    assert result.schema_changes == {}  # the mark is not part of the first column's name
    assert con.execute("select order_id, store_id from raw.sales_orders").fetchall() == [("O1", "Zürich")]


@pytest.mark.parametrize(("encoding", "store"), [("latin-1", "Köln Süd"), ("cp1252", "Köln – Süd €")])
def test_single_byte_encoded_file_loads_when_the_contract_declares_it(
    tmp_path: Path, encoding: str, store: str
) -> None:
    declared = dataclasses.replace(ORDERS, encoding=encoding)
    write_csv(declared, tmp_path, DAY, HEADER, order("O1", store_id=store))
    con = warehouse(tmp_path)
    result = load_days(con, declared, tmp_path, [DAY])
    assert_accounted(con, declared, result, 1)
    assert con.execute("select store_id from raw.sales_orders").fetchall() == [(store,)]


def test_latin1_file_sent_to_a_utf8_source_fails_naming_byte_and_line(tmp_path: Path) -> None:
    load_good_orders(tmp_path)
    content = "\n".join([HEADER, order("O1"), order("O2", store_id="Köln")]) + "\n"
    write_text(ORDERS, tmp_path, DAY, content.encode("latin-1"))
    offset = content.index("ö")  # all characters before it are ASCII, one byte each
    fails_before_writing(tmp_path, ORDERS, rf"2024-03-01\.csv: not valid utf-8 at byte {offset} \(line 3\)")


# Empty, header-only and truncated files


@pytest.mark.parametrize("contract", [ORDERS, MARKETING_EVENTS], ids=["csv", "parquet"])
def test_zero_byte_file_fails_before_writing(tmp_path: Path, contract: SourceContract) -> None:
    if contract is ORDERS:
        load_good_orders(tmp_path)
    else:
        write_parquet(contract, tmp_path, DAY, events("E1"))
        with warehouse(tmp_path) as con:
            load_days(con, contract, tmp_path, [DAY])
    write_text(contract, tmp_path, DAY, b"")
    fails_before_writing(tmp_path, contract, "2024-03-01.* (empty file|not a readable Parquet file)")


@pytest.mark.parametrize("contract", [ORDERS, CONTACTS, MARKETING_EVENTS], ids=["csv", "jsonl", "parquet"])
def test_header_only_or_empty_export_is_a_day_without_records(
    tmp_path: Path, contract: SourceContract
) -> None:
    # A re-sent export with no records replaces the day: a quiet day, not an error.
    con = warehouse(tmp_path)
    if contract is ORDERS:
        write_csv(contract, tmp_path, DAY, HEADER, order("O1"))
    elif contract is CONTACTS:
        write_jsonl(contract, tmp_path, DAY, contact("C1"))
    else:
        write_parquet(contract, tmp_path, DAY, events("E1"))
    assert load_days(con, contract, tmp_path, [DAY]).rows_loaded == 1
    if contract.format is FileFormat.PARQUET:
        write_parquet(contract, tmp_path, DAY, events())
    else:
        write_text(contract, tmp_path, DAY, HEADER + "\n" if contract is ORDERS else "")
    result = load_days(con, contract, tmp_path, [DAY])
    assert_accounted(con, contract, result, 0)
    assert snapshot(con, contract) == {"raw": [], "quarantine": []}


@pytest.mark.parametrize("contract", [ORDERS, CONTACTS], ids=["csv", "jsonl"])
def test_truncated_last_line_is_quarantined_and_the_rest_loads(
    tmp_path: Path, contract: SourceContract
) -> None:
    if contract is ORDERS:
        whole = "\n".join([HEADER, order("O1"), order("O2"), order("O3")])
    else:
        whole = "\n".join(json.dumps(contact(c)) for c in ("C1", "C2", "C3"))
    write_text(contract, tmp_path, DAY, whole[:-25])  # cut mid-record, no final line break
    con = warehouse(tmp_path)
    result = load_days(con, contract, tmp_path, [DAY])
    assert_accounted(con, contract, result, 3)
    assert result.rows_quarantined == 1
    last_line = 4 if contract is ORDERS else 3
    [(line, raw)] = con.execute("select line_number, raw_record from raw.quarantine").fetchall()
    assert (line, raw) == (last_line, whole[:-25].splitlines()[-1])


def test_truncated_parquet_file_fails_before_writing(tmp_path: Path) -> None:
    path = write_parquet(MARKETING_EVENTS, tmp_path, DAY, events("E1", "E2"))
    with warehouse(tmp_path) as con:
        load_days(con, MARKETING_EVENTS, tmp_path, [DAY])
    path.write_bytes(path.read_bytes()[:-40])  # the footer, which Parquet needs, is cut off
    fails_before_writing(tmp_path, MARKETING_EVENTS, r"2024-03-01\.parquet: not a readable Parquet file")


def test_parquet_timestamp_finer_than_microseconds_quarantines_its_row(tmp_path: Path) -> None:
    # One value no TIMESTAMP holds costs its row, never the day; and it is never truncated to fit.
    nanoseconds = pa.array([1709283605000000001, 1709283605000000000], pa.timestamp("ns"))
    write_parquet(MARKETING_EVENTS, tmp_path, DAY, events("E1", "E2", occurred_at=nanoseconds))
    con = warehouse(tmp_path)
    assert_accounted(con, MARKETING_EVENTS, load_days(con, MARKETING_EVENTS, tmp_path, [DAY]), 2)
    assert con.execute("select event_id, occurred_at from raw.crm_marketing_events").fetchall() == [
        ("E2", datetime(2024, 3, 1, 9, 0, 5))
    ]
    assert quarantine_reasons(con, MARKETING_EVENTS) == {
        1: "field occurred_at: 1709283605000000001 ns has digits finer than the microseconds a TIMESTAMP holds"
    }


# Schema changes


def test_added_column_loads_and_is_recorded(tmp_path: Path) -> None:
    csv_path = write_csv(ORDERS, tmp_path, DAY, HEADER + ",coupon_code", order("O1") + ",SPRING")
    parquet_path = write_parquet(
        MARKETING_EVENTS, tmp_path, DAY, events("E1", "E2", device=pa.array(["ios", "web"]))
    )
    con = warehouse(tmp_path)
    for contract, path, records in ((ORDERS, csv_path, 1), (MARKETING_EVENTS, parquet_path, 2)):
        result = load_days(con, contract, tmp_path, [DAY])
        assert_accounted(con, contract, result, records)
        assert result.rows_loaded == records
        added = "coupon_code" if contract is ORDERS else "device"
        assert result.schema_changes == {str(path): {"added": [added], "missing": []}}


def test_dropped_optional_column_loads_as_null_and_is_recorded(tmp_path: Path) -> None:
    without_store = [c for c in ORDERS.column_names if c != "store_id"]
    row = order("O1").split(",")
    del row[ORDERS.column_names.index("store_id")]
    csv_path = write_csv(ORDERS, tmp_path, DAY, ",".join(without_store), ",".join(row))
    loyalty = dataclasses.replace(LOYALTY_MEMBERS, format=FileFormat.PARQUET)
    cards = pa.table(
        {
            "card_number": ["L1"],
            "contact_id": ["C1"],
            "tier": ["gold"],
            "enrolled_at": pa.array([datetime(2024, 3, 1, 9)], pa.timestamp("us")),
            "updated_at": pa.array([datetime(2024, 3, 1, 9)], pa.timestamp("us")),
        }
    )
    parquet_path = write_parquet(loyalty, tmp_path, DAY, cards)
    con = warehouse(tmp_path)
    for contract, path, column in ((ORDERS, csv_path, "store_id"), (loyalty, parquet_path, "points_balance")):
        result = load_days(con, contract, tmp_path, [DAY])
        assert_accounted(con, contract, result, 1)
        assert result.rows_loaded == 1
        assert result.schema_changes == {str(path): {"added": [], "missing": [column]}}
        assert con.execute(f"select {column} from raw.{contract.raw_table}").fetchall() == [(None,)]


@pytest.mark.parametrize("contract", [ORDERS, CONTACTS, MARKETING_EVENTS], ids=["csv", "jsonl", "parquet"])
def test_dropped_required_column_fails_before_writing(tmp_path: Path, contract: SourceContract) -> None:
    con = warehouse(tmp_path)
    if contract is ORDERS:
        write_csv(contract, tmp_path, DAY, HEADER, order("O1"))
        load_days(con, contract, tmp_path, [DAY])
        write_csv(
            contract, tmp_path, DAY, HEADER.replace(",ordered_at", ""), order("O1").replace(",2024", "", 1)
        )
    elif contract is CONTACTS:
        write_jsonl(contract, tmp_path, DAY, contact("C1"))
        load_days(con, contract, tmp_path, [DAY])
        write_jsonl(contract, tmp_path, DAY, {k: v for k, v in contact("C1").items() if k != "created_at"})
    else:
        write_parquet(contract, tmp_path, DAY, events("E1"))
        load_days(con, contract, tmp_path, [DAY])
        write_parquet(contract, tmp_path, DAY, events("E1").drop_columns(["campaign_id"]))
    con.close()
    missing = {ORDERS: "ordered_at", CONTACTS: "created_at", MARKETING_EVENTS: "campaign_id"}[contract]
    fails_before_writing(
        tmp_path, contract, rf"2024-03-01\.{contract.format.value}: required columns missing: {missing}"
    )


def test_retyped_csv_column_quarantines_rows_never_nulls(tmp_path: Path) -> None:
    header = ",".join(ORDER_LINES.column_names)
    line = "O1,{n},SKU1,books,{quantity},4.00,{amount},2024-03-01T10:00:00"
    write_csv(
        ORDER_LINES,
        tmp_path,
        DAY,
        header,
        line.format(n=1, quantity="3", amount="12.00"),
        line.format(n=2, quantity="12.5", amount="50.00"),  # quantity now a decimal
        line.format(n=3, quantity="2.0", amount="8.00"),
    )
    con = warehouse(tmp_path)
    result = load_days(con, ORDER_LINES, tmp_path, [DAY])
    assert_accounted(con, ORDER_LINES, result, 3)
    assert con.execute("select line_number, quantity from raw.sales_order_lines").fetchall() == [(1, 3)]
    assert quarantine_reasons(con, ORDER_LINES) == {
        3: "field quantity: '12.5' is not a valid INTEGER",
        4: "field quantity: '2.0' is not a valid INTEGER",
    }


def test_retyped_parquet_column_quarantines_values_that_change(tmp_path: Path) -> None:
    loyalty = dataclasses.replace(LOYALTY_MEMBERS, format=FileFormat.PARQUET)
    at = pa.array([datetime(2024, 3, 1, 9)] * 3, pa.timestamp("us"))
    cards = {"card_number": ["L1", "L2", "L3"], "contact_id": ["C1"] * 3, "tier": ["gold"] * 3}
    # points_balance now a double (as pandas writes integers with gaps): whole numbers fit, 12.5 does not.
    write_parquet(
        loyalty,
        tmp_path,
        DAY,
        pa.table({**cards, "points_balance": [120.0, 12.5, None], "enrolled_at": at, "updated_at": at}),
    )
    # occurred_at now epoch seconds instead of a timestamp: no value is a timestamp any more.
    write_parquet(
        MARKETING_EVENTS, tmp_path, DAY, events("E1", occurred_at=pa.array([1709283605], pa.int64()))
    )
    con = warehouse(tmp_path)
    result = load_days(con, loyalty, tmp_path, [DAY])
    assert_accounted(con, loyalty, result, 3)
    loaded = con.execute(
        "select card_number, points_balance from raw.crm_loyalty_members order by 1"
    ).fetchall()
    assert loaded == [("L1", 120), ("L3", None)]
    assert quarantine_reasons(con, loyalty) == {2: "field points_balance: '12.5' is not a valid INTEGER"}
    result = load_days(con, MARKETING_EVENTS, tmp_path, [DAY])
    assert_accounted(con, MARKETING_EVENTS, result, 1)
    assert quarantine_reasons(con, MARKETING_EVENTS) == {
        1: "field occurred_at: '1709283605' is not a valid TIMESTAMP"
    }


def test_parquet_values_become_the_same_text_as_csv(tmp_path: Path) -> None:
    # Typed values reach the same strict typing as text: the same export in both formats loads the same.
    as_parquet = dataclasses.replace(ORDERS, format=FileFormat.PARQUET)
    write_csv(
        ORDERS, tmp_path, DAY, HEADER, order("O1", ordered_at="2024-03-01T10:00:00.250000"), order("O2")
    )
    at = [datetime(2024, 3, 1, 10, 0, 0, 250000), datetime(2024, 3, 1, 10)]
    write_parquet(
        as_parquet,
        tmp_path,
        DAY,
        pa.table(
            {
                "order_id": ["O1", "O2"],
                "account_id": ["A1", "A1"],
                "guest_email": pa.array([None, None], pa.string()),
                "loyalty_card": pa.array([None, None], pa.string()),
                "channel": ["web", "web"],
                "store_id": ["", None],  # an empty string is absent, as in CSV
                "ordered_at": pa.array(at, pa.timestamp("ms")),
                "currency": pa.array(["EUR", "EUR"]).dictionary_encode(),
                "order_total": pa.array([Decimal("12.50"), Decimal("12.50")], pa.decimal128(12, 2)),
                "updated_at": pa.array([datetime(2024, 3, 1, 10)] * 2, pa.timestamp("s", tz="UTC")),
            }
        ),
    )
    from_csv, from_parquet = warehouse(tmp_path / "a"), warehouse(tmp_path / "b")
    assert_accounted(from_csv, ORDERS, load_days(from_csv, ORDERS, tmp_path, [DAY]), 2)
    assert_accounted(from_parquet, as_parquet, load_days(from_parquet, as_parquet, tmp_path, [DAY]), 2)
    rows = "select * exclude (_source_file, _line_number, _loaded_at) from raw.sales_orders order by all"
    assert from_parquet.execute(rows).fetchall() == from_csv.execute(rows).fetchall()


# Keys, versions and re-runs


def test_duplicate_keys_in_one_file_keep_both_versions(tmp_path: Path) -> None:
    write_csv(
        ORDERS,
        tmp_path,
        DAY,
        HEADER,
        order("O1", order_total="10.00"),
        order("O1", order_total="11.00", updated_at="2024-03-01T15:00:00"),
        order("O1", order_total="11.00", updated_at="2024-03-01T15:00:00"),  # an exact copy
    )
    con = warehouse(tmp_path)
    result = load_days(con, ORDERS, tmp_path, [DAY])
    assert_accounted(con, ORDERS, result, 3)
    newest_first = con.execute(
        "select order_total, updated_at, _line_number from raw.sales_orders "
        "order by updated_at desc, _export_date desc, _line_number desc"
    ).fetchall()
    assert newest_first == [
        (Decimal("11.00"), datetime(2024, 3, 1, 15), 4),
        (Decimal("11.00"), datetime(2024, 3, 1, 15), 3),
        (Decimal("10.00"), datetime(2024, 3, 1, 10), 2),
    ]


def test_loading_the_same_file_twice_gives_identical_tables(tmp_path: Path) -> None:
    write_csv(ORDERS, tmp_path, DAY, HEADER, order("O1"), "broken,row", order("O2", order_total="x"))
    con = warehouse(tmp_path)
    first = load_days(con, ORDERS, tmp_path, [DAY])
    once = snapshot(con, ORDERS)
    second = load_days(con, ORDERS, tmp_path, [DAY])
    assert snapshot(con, ORDERS) == once
    assert_accounted(con, ORDERS, second, 3)
    assert (
        (first.rows_loaded, first.rows_quarantined) == (second.rows_loaded, second.rows_quarantined) == (1, 2)
    )


def test_multi_day_run_equals_per_day_runs_and_a_rerun(tmp_path: Path) -> None:
    days = [DAY, NEXT_DAY, date(2024, 3, 3)]
    for i, day in enumerate(days):
        write_csv(
            ORDERS, tmp_path, day, HEADER, order(f"O{i}"), order(f"O{i}", updated_at=f"{day}T12:00:00"), "x"
        )
    single_run, per_day = warehouse(tmp_path / "single"), warehouse(tmp_path / "per_day")
    assert_accounted(single_run, ORDERS, load_days(single_run, ORDERS, tmp_path, days), 9)
    for day in days:
        assert_accounted(per_day, ORDERS, load_days(per_day, ORDERS, tmp_path, [day]), 3)
    assert snapshot(single_run, ORDERS) == snapshot(per_day, ORDERS)
    load_days(per_day, ORDERS, tmp_path, [NEXT_DAY])  # re-run of one partition
    assert snapshot(single_run, ORDERS) == snapshot(per_day, ORDERS)


def test_late_record_loads_into_the_day_it_arrived_once(tmp_path: Path) -> None:
    write_csv(ORDERS, tmp_path, DAY, HEADER, order("O1"))
    write_csv(ORDERS, tmp_path, LATER_DAY, HEADER, order("O-late"))  # ordered on DAY, exported days later
    con = warehouse(tmp_path)
    load_days(con, ORDERS, tmp_path, [DAY])
    assert_accounted(con, ORDERS, load_days(con, ORDERS, tmp_path, [LATER_DAY]), 1)
    load_days(con, ORDERS, tmp_path, [DAY])  # re-running the closed day does not pick it up twice
    rows = con.execute(
        "select order_id, ordered_at::date, _export_date from raw.sales_orders order by 1"
    ).fetchall()
    assert rows == [("O-late", DAY, LATER_DAY), ("O1", DAY, DAY)]


def test_older_version_arriving_later_does_not_win(tmp_path: Path) -> None:
    write_csv(
        ORDERS, tmp_path, DAY, HEADER, order("O1", order_total="20.00", updated_at="2024-03-01T18:00:00")
    )
    write_csv(
        ORDERS, tmp_path, NEXT_DAY, HEADER, order("O1", order_total="10.00", updated_at="2024-03-01T09:00:00")
    )
    con = warehouse(tmp_path)
    assert_accounted(con, ORDERS, load_days(con, ORDERS, tmp_path, [DAY, NEXT_DAY]), 2)
    # Both versions are kept; the staging order (version, then export day, then line) puts the newer first.
    newest_first = con.execute(
        "select order_total, _export_date from raw.sales_orders "
        "order by updated_at desc, _export_date desc, _line_number desc"
    ).fetchall()
    assert newest_first == [(Decimal("20.00"), DAY), (Decimal("10.00"), NEXT_DAY)]


def test_emails_differing_in_case_or_whitespace_share_a_hash(tmp_path: Path) -> None:
    spellings = ["jane.doe@example.com", " Jane.Doe@Example.COM ", "JANE.DOE@EXAMPLE.COM\t"]
    write_jsonl(CONTACTS, tmp_path, DAY, *(contact(f"C{i}", email=e) for i, e in enumerate(spellings)))
    con = warehouse(tmp_path)
    assert_accounted(con, CONTACTS, load_days(con, CONTACTS, tmp_path, [DAY]), 3)
    hashes = con.execute("select distinct email_hash from raw.crm_contacts").fetchall()
    assert hashes == [(keyed_hash("jane.doe@example.com", KEY),)]


# Values and JSON lines


def test_unparseable_dates_and_amounts_are_quarantined_naming_the_field(tmp_path: Path) -> None:
    write_csv(
        ORDERS,
        tmp_path,
        DAY,
        HEADER,
        order("O1"),
        order("O2", ordered_at="31/02/2024 10:00"),
        order("O3", ordered_at="2024-02-30T10:00:00"),
        order("O4", order_total='"12,5O"'),
        order("O5", order_total="1.2e3"),
    )
    con = warehouse(tmp_path)
    assert_accounted(con, ORDERS, load_days(con, ORDERS, tmp_path, [DAY]), 5)
    assert quarantine_reasons(con, ORDERS) == {
        3: "field ordered_at: '31/02/2024 10:00' is not a valid TIMESTAMP",
        4: "field ordered_at: '2024-02-30T10:00:00' is not a valid TIMESTAMP",
        5: "field order_total: '12,5O' is not a valid DECIMAL(12,2)",
        6: "field order_total: '1.2e3' is not a valid DECIMAL(12,2)",
    }


def test_invalid_and_non_object_json_lines_are_quarantined(tmp_path: Path) -> None:
    lines = [json.dumps(contact("C1")), '{"contact_id": "C2", "email": ', "[1, 2]", '"C3"', "null"]
    write_text(CONTACTS, tmp_path, DAY, "\n".join(lines) + "\n")
    con = warehouse(tmp_path)
    assert_accounted(con, CONTACTS, load_days(con, CONTACTS, tmp_path, [DAY]), 5)
    reasons = quarantine_reasons(con, CONTACTS)
    assert reasons[2].startswith("invalid JSON")
    assert [reasons[n] for n in (3, 4, 5)] == ["JSON line is not an object"] * 3


def test_nested_json_values_are_quarantined(tmp_path: Path) -> None:
    nested = contact("C2", region={"name": "north"}, age_band=["25-34"])
    write_jsonl(CONTACTS, tmp_path, DAY, contact("C1"), nested)
    con = warehouse(tmp_path)
    assert_accounted(con, CONTACTS, load_days(con, CONTACTS, tmp_path, [DAY]), 2)
    assert quarantine_reasons(con, CONTACTS) == {
        2: "fields hold nested values instead of scalars: region, age_band"
    }


def test_empty_required_field_is_quarantined_in_every_format(tmp_path: Path) -> None:
    write_csv(ORDERS, tmp_path, DAY, HEADER, order("O1"), order(""), order("O3", order_total=""))
    write_jsonl(CONTACTS, tmp_path, DAY, contact("C1"), contact(""), contact("C3", contact_id=None))
    write_parquet(MARKETING_EVENTS, tmp_path, DAY, events("E1", "", None))
    con = warehouse(tmp_path)
    for contract, key in ((ORDERS, "order_id"), (CONTACTS, "contact_id"), (MARKETING_EVENTS, "event_id")):
        assert_accounted(con, contract, load_days(con, contract, tmp_path, [DAY]), 3)
        reasons = sorted(quarantine_reasons(con, contract).values())
        expected = ["missing required field order_id", "missing required field order_total"]
        assert reasons == (expected if contract is ORDERS else [f"missing required field {key}"] * 2)


@pytest.mark.parametrize("spelling", ["yes", "Y", "1", "TRUE "])
def test_boolean_spelled_otherwise_than_true_or_false_is_quarantined(tmp_path: Path, spelling: str) -> None:
    write_jsonl(CONTACTS, tmp_path, DAY, contact("C1"), contact("C2", marketing_consent=spelling))
    con = warehouse(tmp_path)
    assert_accounted(con, CONTACTS, load_days(con, CONTACTS, tmp_path, [DAY]), 2)
    assert quarantine_reasons(con, CONTACTS) == {
        2: f"field marketing_consent: '{spelling}' is not a valid BOOLEAN"
    }


def test_new_and_changed_parquet_exports_are_seen_by_the_landing_sensor(tmp_path: Path) -> None:
    write_parquet(MARKETING_EVENTS, tmp_path, DAY, events("E1"))
    before = export_day_fingerprints(tmp_path, (MARKETING_EVENTS,))
    write_parquet(MARKETING_EVENTS, tmp_path, NEXT_DAY, events("E2"))
    write_parquet(MARKETING_EVENTS, tmp_path, DAY, events("E1", "E3"))
    assert changed_days(before, export_day_fingerprints(tmp_path, (MARKETING_EVENTS,))) == [DAY, NEXT_DAY]
