"""Records as a reader independent of our parser sees them, and inputs real exports send that a friendly
parser mends or chokes on (docs/reliability.md, "Records and line ends" onwards).

Like `test_reliability.py`: real files in a temporary landing folder, read with `read_landing_file`,
loaded with `load_window` into a DuckDB file; every test checks rows read = rows loaded + rows
quarantined against the records written, or that a fatal file leaves the previous load as it was.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from landing_fixture import (
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

from sources import landing
from sources.config import Calendar, TransactionsFile
from sources.contracts import CONTACTS, LOYALTY_MEMBERS, MARKETING_EVENTS, ORDERS, SourceContract
from sources.landing import LandingFileError, read_landing_file
from sources.landing_text import FIELD_LIMIT_BYTES, RECORD_LIMIT_BYTES, LandingReaderFault
from sources.transactions import TransactionsFileError, import_transactions

DAY = date(2024, 3, 1)
HEADER = ",".join(ORDERS.column_names)
TIMES = {"created_at": "2024-03-01T09:00:00", "updated_at": "2024-03-01T09:00:00"}


def order(order_id: str, **values: str) -> str:
    """A valid orders CSV record; keyword arguments replace columns (values are written verbatim)."""
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
    return {"contact_id": contact_id, "email": f"{contact_id.lower()}@example.com", **TIMES, **values}


def contact_line(contact_id: str, /, **members: str) -> str:
    """A contact as a JSON line, members given as raw JSON text (so NaN, duplicates and spellings stay)."""
    body = {"contact_id": json.dumps(contact_id), **{k: json.dumps(v) for k, v in TIMES.items()}, **members}
    return "{" + ", ".join(f'"{name}": {value}' for name, value in body.items()) + "}"


def events(*event_ids: str, **columns: pa.Array) -> pa.Table:
    n = len(event_ids)
    return pa.table(
        {
            "event_id": pa.array(event_ids, pa.string()),
            "contact_id": pa.array(["C1"] * n, pa.string()),
            "campaign_id": pa.array(["CMP-1"] * n, pa.string()),
            "event_type": pa.array(["sent"] * n, pa.string()),
            "occurred_at": pa.array([datetime(2024, 3, 1, 9, 0, 5)] * n, pa.timestamp("us")),
            **columns,
        }
    )


def loaded_ids(con: Any, contract: SourceContract) -> list[str]:
    key = contract.key[0]
    return [k for (k,) in con.execute(f"select {key} from raw.{contract.raw_table} order by 1").fetchall()]


def fails_keeping_the_previous_load(
    tmp_path: Path, contract: SourceContract, content: str | bytes, error: str
) -> None:
    """Load a good day, replace its file with `content`, expect `error`: the good load stays as it was."""
    good = order("O1") if contract is ORDERS else json.dumps(contact("C1"))
    write_text(contract, tmp_path, DAY, (HEADER + "\n" if contract is ORDERS else "") + good + "\n")
    con = warehouse(tmp_path)
    load_days(con, contract, tmp_path, [DAY])
    before = snapshot(con, contract)
    write_text(contract, tmp_path, DAY, content)
    with pytest.raises(LandingFileError, match=error):
        load_days(con, contract, tmp_path, [DAY])
    assert snapshot(con, contract) == before and before["raw"]


# Records and line ends


def test_a_lone_cr_in_a_crlf_file_ends_a_record_and_every_order_loads(tmp_path: Path) -> None:
    # The user's file: seven orders, CRLF line ends, one of them a lone CR. A record must not vanish.
    rows = [order(f"O{i}") for i in range(1, 8)]
    content = (
        HEADER + "\r\n" + "\r\n".join(rows[:3]) + "\r\n" + rows[3] + "\r" + "\r\n".join(rows[4:]) + "\r\n"
    )
    write_text(ORDERS, tmp_path, DAY, content)
    con = warehouse(tmp_path)
    result = load_days(con, ORDERS, tmp_path, [DAY])
    assert_accounted(con, ORDERS, result, 7)
    assert result.rows_loaded == 7
    assert con.execute("select order_id, _line_number from raw.sales_orders order by 2").fetchall() == [
        (f"O{i}", i + 1) for i in range(1, 8)
    ]


@pytest.mark.parametrize("line_end", ["\r", "\r\n", "\n"], ids=["cr", "crlf", "lf"])
def test_every_line_end_convention_reads_the_same_records(tmp_path: Path, line_end: str) -> None:
    # A CR-only file (old Mac exports) used to crash the CSV reader with a bare _csv.Error.
    csv_rows = [HEADER, order("O1"), order("O2", store_id='"two\nlines"'), order("O3")]
    write_text(ORDERS, tmp_path, DAY, line_end.join(csv_rows) + line_end)
    write_text(
        CONTACTS, tmp_path, DAY, line_end.join(json.dumps(contact(c)) for c in ("C1", "C2")) + line_end
    )
    con = warehouse(tmp_path)
    assert_accounted(con, ORDERS, load_days(con, ORDERS, tmp_path, [DAY]), 3)
    assert_accounted(con, CONTACTS, load_days(con, CONTACTS, tmp_path, [DAY]), 2)
    assert loaded_ids(con, ORDERS) == ["O1", "O2", "O3"]
    assert loaded_ids(con, CONTACTS) == ["C1", "C2"]
    # a line end inside a quoted value is part of it, as sent
    assert con.execute("select store_id from raw.sales_orders where order_id = 'O2'").fetchone() == (
        "two\nlines",
    )
    assert con.execute("select _line_number from raw.sales_orders where order_id = 'O3'").fetchone() == (5,)


@pytest.mark.parametrize("contract", [ORDERS, CONTACTS], ids=["csv", "jsonl"])
def test_a_trailing_ctrl_z_is_an_end_of_file_marker_ignored_and_noted(
    tmp_path: Path, contract: SourceContract
) -> None:
    if contract is ORDERS:
        content = "\r\n".join([HEADER, order("O1"), order("O2")]) + "\r\n\x1a"
    else:
        content = "\n".join(json.dumps(contact(c)) for c in ("C1", "C2")) + "\n\x1a"
    path = write_text(contract, tmp_path, DAY, content)
    batch = read_landing_file(contract, path, DAY)
    assert batch.notes == ["ignored the end-of-file marker (Ctrl-Z, 0x1A) after the last record"]
    con = warehouse(tmp_path)
    result = load_days(con, contract, tmp_path, [DAY])
    assert_accounted(con, contract, result, 2)
    assert result.rows_loaded == 2
    # the note reaches the load's result, and so the raw asset's metadata (`reader_notes`)
    assert list(result.notes.values()) == [batch.notes]


def test_a_long_bad_value_is_quoted_cut_short_in_its_reason(tmp_path: Path) -> None:
    # a value may be up to 1 MiB: the quarantine reason quotes its first 80 characters only
    write_text(ORDERS, tmp_path, DAY, "\n".join([HEADER, order("O1", order_total="9" * 200 + ".5x")]) + "\n")
    con = warehouse(tmp_path)
    assert_accounted(con, ORDERS, load_days(con, ORDERS, tmp_path, [DAY]), 1)
    [(reason,)] = con.execute("select reason from raw.quarantine").fetchall()
    assert reason == f"field order_total: '{'9' * 80}...' is not a valid DECIMAL(12,2)"


def test_a_bad_record_spanning_lines_costs_exactly_that_record(tmp_path: Path) -> None:
    # A well-quoted address over two lines in a record with one field too many: one record, one row.
    spanning = order("O2", store_id='"Main St\nBuilding 5"') + ",extra"
    write_csv(ORDERS, tmp_path, DAY, HEADER, order("O1"), spanning, order("O3"))
    con = warehouse(tmp_path)
    result = load_days(con, ORDERS, tmp_path, [DAY])
    assert_accounted(con, ORDERS, result, 3)
    assert loaded_ids(con, ORDERS) == ["O1", "O3"]
    assert con.execute("select line_number, raw_record, reason from raw.quarantine").fetchall() == [
        (3, spanning, "expected 10 fields, found 11")
    ]
    assert con.execute("select _line_number from raw.sales_orders where order_id = 'O3'").fetchone() == (5,)


def test_a_stray_quote_never_swallows_the_records_after_it(tmp_path: Path) -> None:
    # The quote opened in O2 would close at the first quote of O4 if it were a quote; text follows
    # that quote, so it was never closed: O2's line alone is quarantined and O3, O4 load.
    stray = order("O2", store_id='"S1')
    write_csv(
        ORDERS, tmp_path, DAY, HEADER, order("O1"), stray, order("O3"), order("O4", store_id='"S4, Main"')
    )
    con = warehouse(tmp_path)
    result = load_days(con, ORDERS, tmp_path, [DAY])
    assert_accounted(con, ORDERS, result, 4)
    assert loaded_ids(con, ORDERS) == ["O1", "O3", "O4"]
    assert quarantine_reasons(con, ORDERS) == {
        3: "unclosed quote: field 6 (store_id) opens a quote that does not close"
    }


@pytest.mark.parametrize("blank", ["\u00a0", "\x1c", "\x1f", "\u3000", "\f"])
def test_a_json_line_of_other_whitespace_is_a_record_not_a_blank_line(tmp_path: Path, blank: str) -> None:
    # Python's str.strip() takes these for blanks; JSON does not, so the line is a record to account for.
    lines = [json.dumps(contact("C1")), blank, "", " \t", json.dumps(contact("C2"))]
    write_text(CONTACTS, tmp_path, DAY, "\n".join(lines) + "\n")
    con = warehouse(tmp_path)
    result = load_days(con, CONTACTS, tmp_path, [DAY])
    assert_accounted(con, CONTACTS, result, 3)  # the empty and the space-and-tab lines hold no record
    assert list(quarantine_reasons(con, CONTACTS)) == [2]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-16"])
def test_utf16_and_utf32_json_lines_are_read_as_what_their_bytes_say(tmp_path: Path, encoding: str) -> None:
    # Without a byte-order mark (all but plain "utf-16") the NUL bytes give the encoding away.
    path = write_text(
        CONTACTS,
        tmp_path,
        DAY,
        "".join(
            json.dumps(contact(c, region="Köln"), ensure_ascii=False) + "\n" for c in ("C1", "C2")
        ).encode(encoding),
    )
    batch = read_landing_file(CONTACTS, path, DAY)
    assert len(batch.notes) == 1 and batch.notes[0].startswith("read as utf-")
    con = warehouse(tmp_path)
    result = load_days(con, CONTACTS, tmp_path, [DAY])
    assert_accounted(con, CONTACTS, result, 2)
    assert con.execute("select distinct region from raw.crm_contacts").fetchall() == [("Köln",)]


def test_a_utf16_csv_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    # Excel's "Unicode text" is UTF-16 with a byte-order mark.
    content = "\r\n".join([HEADER, order("O1", store_id="Zürich")]) + "\r\n"
    write_text(ORDERS, tmp_path, DAY, content.encode("utf-16"))
    con = warehouse(tmp_path)
    assert_accounted(con, ORDERS, load_days(con, ORDERS, tmp_path, [DAY]), 1)
    assert con.execute("select store_id from raw.sales_orders").fetchall() == [("Zürich",)]


def test_utf16_that_does_not_decode_fails_naming_the_file_byte_and_line(tmp_path: Path) -> None:
    content = (json.dumps(contact("C1")) + "\n").encode("utf-16-le") + b"\x00\xd8"  # a cut surrogate pair
    fails_keeping_the_previous_load(
        tmp_path, CONTACTS, content, r"2024-03-01\.jsonl: not valid utf-16-le at byte \d+ \(line 2\)"
    )


# Schema evolution


def test_unknown_members_of_any_type_are_ignored_and_reported_as_added(tmp_path: Path) -> None:
    # A new nested member used to quarantine every row of the source.
    documents = [
        contact("C1", device={"os": "ios", "versions": [17, 18]}, tags=["vip"], score=None),
        contact("C2", device={}, tags=[], score=1.5),
    ]
    path = write_jsonl(CONTACTS, tmp_path, DAY, *documents)
    events_path = write_parquet(
        MARKETING_EVENTS,
        tmp_path,
        DAY,
        events("E1", "E2", links=pa.array([["a", "b"], None]), meta=pa.array([{"x": 1}, {"x": 2}])),
    )
    con = warehouse(tmp_path)
    result = load_days(con, CONTACTS, tmp_path, [DAY])
    assert_accounted(con, CONTACTS, result, 2)
    assert result.rows_loaded == 2
    assert result.schema_changes[str(path)]["added"] == ["device", "tags", "score"]
    result = load_days(con, MARKETING_EVENTS, tmp_path, [DAY])
    assert_accounted(con, MARKETING_EVENTS, result, 2)
    assert result.rows_loaded == 2
    assert result.schema_changes == {str(events_path): {"added": ["links", "meta"], "missing": []}}


def test_only_a_contract_member_holding_a_nested_value_costs_its_row(tmp_path: Path) -> None:
    write_jsonl(
        CONTACTS, tmp_path, DAY, contact("C1", extra={"a": 1}), contact("C2", region={"name": "north"})
    )
    con = warehouse(tmp_path)
    assert_accounted(con, CONTACTS, load_days(con, CONTACTS, tmp_path, [DAY]), 2)
    assert quarantine_reasons(con, CONTACTS) == {2: "fields hold nested values instead of scalars: region"}


# Input that used to crash without naming file or line


def test_values_that_crashed_the_json_reader_are_quarantined_naming_the_field(tmp_path: Path) -> None:
    lines = [
        contact_line("C1"),
        contact_line("C2", email='"\\ud83d"'),  # an emoji cut in half: a lone surrogate
        contact_line("C3", region="9" * 5000),  # a 5,000-digit integer
        contact_line("C4", region="1e1000000"),
        contact_line("C5", region="[" * 100_000 + "]" * 100_000),  # arrays 100,000 deep
        contact_line("C6", extra="[" * 100_000 + "]" * 100_000),
    ]
    write_text(CONTACTS, tmp_path, DAY, "\n".join(lines) + "\n")
    con = warehouse(tmp_path)
    result = load_days(con, CONTACTS, tmp_path, [DAY])
    assert_accounted(con, CONTACTS, result, 6)
    # Numbers are text as sent: the region column is VARCHAR, so both spellings load unchanged.
    assert con.execute("select contact_id, region from raw.crm_contacts order by 1").fetchall() == [
        ("C1", None),
        ("C3", "9" * 5000),
        ("C4", "1e1000000"),
    ]
    assert quarantine_reasons(con, CONTACTS) == {
        2: "field email: holds \\ud83d, half of a character (a lone surrogate: an emoji cut in half?)",
        5: "invalid JSON: nested deeper than the reader can follow",
        6: "invalid JSON: nested deeper than the reader can follow",
    }


def test_a_parquet_text_column_holding_latin1_bytes_quarantines_those_rows(tmp_path: Path) -> None:
    values = [b"sent", "K\xf6ln".encode("latin-1"), b"opened"]
    offsets = pa.array([0, 4, 8, 14], pa.int32()).buffers()[1]
    latin1 = pa.Array.from_buffers(pa.string(), 3, [None, offsets, pa.py_buffer(b"".join(values))])
    write_parquet(MARKETING_EVENTS, tmp_path, DAY, events("E1", "E2", "E3", event_type=latin1))
    con = warehouse(tmp_path)
    assert_accounted(con, MARKETING_EVENTS, load_days(con, MARKETING_EVENTS, tmp_path, [DAY]), 3)
    assert loaded_ids(con, MARKETING_EVENTS) == ["E1", "E3"]
    [(line, raw, reason)] = con.execute(
        "select line_number, raw_record, reason from raw.quarantine"
    ).fetchall()
    assert (line, reason) == (2, "field event_type: not valid UTF-8 text: byte b'\\xf6' at offset 1")
    assert json.loads(raw)["event_type"] == "K\\xf6ln"


def test_a_millisecond_column_holding_microseconds_quarantines_those_rows(tmp_path: Path) -> None:
    at = pa.array([1709283605000, 1709283605000000, None], pa.timestamp("ms"))
    write_parquet(MARKETING_EVENTS, tmp_path, DAY, events("E1", "E2", "E3", occurred_at=at))
    con = warehouse(tmp_path)
    assert_accounted(con, MARKETING_EVENTS, load_days(con, MARKETING_EVENTS, tmp_path, [DAY]), 3)
    assert con.execute("select event_id, occurred_at from raw.crm_marketing_events").fetchall() == [
        ("E1", datetime(2024, 3, 1, 9, 0, 5))
    ]
    assert quarantine_reasons(con, MARKETING_EVENTS) == {
        2: "field occurred_at: 1709283605000000 ms after 1970-01-01 is not a time between the years 1 and "
        "9999 (a column written in another unit?)",
        3: "missing required field occurred_at",
    }


def test_parquet_nan_and_out_of_range_dates_are_quarantined(tmp_path: Path) -> None:
    table = events(
        "E1",
        "E2",
        "E3",
        campaign_id=pa.array([1.5, float("nan"), float("-inf")]),
        event_type=pa.array([19783, 10**9, 19783], pa.date32()),  # 2024-03-01, then 2.7 million years on
    )
    path = write_parquet(MARKETING_EVENTS, tmp_path, DAY, table)
    batch = read_landing_file(MARKETING_EVENTS, path, DAY)
    kept = batch.records().to_pylist()
    assert [(r["_line_number"], r["campaign_id"], r["event_type"]) for r in kept] == [
        (1, "1.5", "2024-03-01")
    ]
    assert {q.line_number: q.reason for q in batch.quarantined} == {
        2: "field campaign_id: nan is not a number; field event_type: 1000000000 days after 1970-01-01 is "
        "not a date between the years 1 and 9999",
        3: "field campaign_id: -inf is not a number",
    }
    con = warehouse(tmp_path)
    assert_accounted(con, MARKETING_EVENTS, load_days(con, MARKETING_EVENTS, tmp_path, [DAY]), 3)


def test_a_parquet_schema_naming_a_column_twice_fails_the_file_naming_it(tmp_path: Path) -> None:
    write_parquet(MARKETING_EVENTS, tmp_path, DAY, events("E1"))
    con = warehouse(tmp_path)
    load_days(con, MARKETING_EVENTS, tmp_path, [DAY])
    before = snapshot(con, MARKETING_EVENTS)
    table = events("E1")
    twice = pa.Table.from_arrays(
        [*table.columns, table.column("event_type")], [*table.column_names, "event_type"]
    )
    write_parquet(MARKETING_EVENTS, tmp_path, DAY, twice)
    with pytest.raises(
        LandingFileError, match=r"2024-03-01\.parquet: the schema names column 'event_type' twice"
    ):
        load_days(con, MARKETING_EVENTS, tmp_path, [DAY])
    assert snapshot(con, MARKETING_EVENTS) == before


def test_a_fault_of_the_reader_still_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str, batch: Any) -> None:
        raise KeyError("something nobody foresaw")

    monkeypatch.setattr(landing, "parse_csv", broken)
    path = write_csv(ORDERS, tmp_path, DAY, HEADER, order("O1"))
    with pytest.raises(LandingReaderFault, match=rf"{path}: the reader failed \(KeyError"):
        read_landing_file(ORDERS, path, DAY)


# Strict CSV


def test_malformed_quoting_is_quarantined_never_mended(tmp_path: Path) -> None:
    rows = [
        order("O1", store_id='"Main ""Mall"" St"'),  # a doubled quote: fine
        order("O2", store_id='"Main \\"Mall\\" St"'),  # escaped with a backslash, which CSV does not know
        order("O3", store_id='"S1"x'),  # text after the closing quote
        order("O4", store_id='S"1'),  # a quote inside an unquoted value
        order("O5", store_id=' "S5"'),  # a space before the opening quote: the value is not quoted
        order("O6"),
    ]
    write_csv(ORDERS, tmp_path, DAY, HEADER, *rows)
    con = warehouse(tmp_path)
    assert_accounted(con, ORDERS, load_days(con, ORDERS, tmp_path, [DAY]), 6)
    assert con.execute("select order_id, store_id from raw.sales_orders order by 1").fetchall() == [
        ("O1", 'Main "Mall" St'),
        ("O6", None),
    ]
    unquoted = "malformed quoting: field 6 (store_id) has a quote inside a value that does not start with one"
    assert quarantine_reasons(con, ORDERS) == {
        3: "malformed quoting: field 6 (store_id) escapes a quote with a backslash, which this dialect does "
        "not declare (a quote inside a quoted value is doubled)",
        4: "malformed quoting: field 6 (store_id) has text after its closing quote",
        5: unquoted,
        6: unquoted,
    }
    assert con.execute("select raw_record from raw.quarantine where line_number = 3").fetchone() == (rows[1],)


def test_csv_values_are_stored_as_sent(tmp_path: Path) -> None:
    sent = [" S1 ", "a\tb", "x\x85y\u2028z\fw", "line\r\nbreak", "lone\rcr", '"', '""']
    rows = [order(f"O{i}", store_id='"' + value.replace('"', '""') + '"') for i, value in enumerate(sent)]
    write_csv(ORDERS, tmp_path, DAY, HEADER, *rows)
    con = warehouse(tmp_path)
    assert_accounted(con, ORDERS, load_days(con, ORDERS, tmp_path, [DAY]), len(sent))
    stored = dict(con.execute("select order_id, store_id from raw.sales_orders").fetchall())
    assert [stored[f"O{i}"] for i in range(len(sent))] == sent


def test_a_header_naming_a_column_twice_fails_the_file_naming_it(tmp_path: Path) -> None:
    fails_keeping_the_previous_load(
        tmp_path,
        ORDERS,
        HEADER + ",order_total\n" + order("O1") + ",99.00\n",
        r"2024-03-01\.csv: line 1 \(the header\) names column 'order_total' twice \(fields 9 and 11\)",
    )


def test_a_header_that_breaks_the_quoting_rules_fails_the_file_naming_line_1(tmp_path: Path) -> None:
    fails_keeping_the_previous_load(
        tmp_path,
        ORDERS,
        HEADER.replace("channel", '"channel"x') + "\n" + order("O1") + "\n",
        r"2024-03-01\.csv: line 1 \(the header\): malformed quoting: field 5 has text after its closing quote",
    )


# Strict JSON


def test_nan_infinity_and_members_named_twice_are_quarantined(tmp_path: Path) -> None:
    lines = [
        contact_line("C1"),
        contact_line("C2", region="NaN"),
        contact_line("C3", region="-Infinity"),
        contact_line("C4", tags="[1, Infinity]"),
        contact_line("C5").removesuffix("}") + ', "region": "north", "region": "south"}',
    ]
    write_text(CONTACTS, tmp_path, DAY, "\n".join(lines) + "\n")
    con = warehouse(tmp_path)
    assert_accounted(con, CONTACTS, load_days(con, CONTACTS, tmp_path, [DAY]), 5)
    assert loaded_ids(con, CONTACTS) == ["C1"]
    assert quarantine_reasons(con, CONTACTS) == {
        2: "invalid JSON: member region holds NaN, which is not a JSON value",
        3: "invalid JSON: member region holds -Infinity, which is not a JSON value",
        4: "invalid JSON: Infinity is not a JSON value",
        5: "invalid JSON: member region appears twice in one object",
    }


def test_json_numbers_keep_their_spelling(tmp_path: Path) -> None:
    lines = [
        contact_line("C1", region="1.10", age_band="4.0E+3", acquisition_channel="-0"),
        contact_line("C2", marketing_consent="true"),
    ]
    write_text(CONTACTS, tmp_path, DAY, "\n".join(lines) + "\n")
    card = {"contact_id": "C1", "tier": "gold", "enrolled_at": "2024-03-01T09:00:00", **TIMES}
    cards = [
        {"card_number": "L1", "points_balance": 120, **card},
        {"card_number": "L2", "points_balance": 12.0, **card},
    ]
    write_jsonl(LOYALTY_MEMBERS, tmp_path, DAY, *cards)
    con = warehouse(tmp_path)
    assert_accounted(con, CONTACTS, load_days(con, CONTACTS, tmp_path, [DAY]), 2)
    assert con.execute(
        "select region, age_band, acquisition_channel, marketing_consent from raw.crm_contacts order by contact_id"
    ).fetchall() == [("1.10", "4.0E+3", "-0", None), (None, None, None, True)]
    # 12.0 is not an INTEGER as sent, in JSON as in CSV: never silently re-spelled to 12
    assert_accounted(con, LOYALTY_MEMBERS, load_days(con, LOYALTY_MEMBERS, tmp_path, [DAY]), 2)
    assert quarantine_reasons(con, LOYALTY_MEMBERS) == {
        2: "field points_balance: '12.0' is not a valid INTEGER"
    }


# Size limits


@pytest.mark.parametrize("contract", [ORDERS, CONTACTS, MARKETING_EVENTS], ids=["csv", "jsonl", "parquet"])
def test_one_field_size_limit_for_every_format(tmp_path: Path, contract: SourceContract) -> None:
    # 200 KB used to pass the JSON reader and be quarantined by the CSV parser's own limit.
    fits, too_big = "x" * 200_000, "é" * (FIELD_LIMIT_BYTES // 2 + 1)  # é is two bytes in UTF-8
    if contract is ORDERS:
        write_csv(ORDERS, tmp_path, DAY, HEADER, order("R1", store_id=fits), order("R2", store_id=too_big))
        column = "store_id"
    elif contract is CONTACTS:
        write_jsonl(CONTACTS, tmp_path, DAY, contact("R1", region=fits), contact("R2", region=too_big))
        column = "region"
    else:
        write_parquet(contract, tmp_path, DAY, events("R1", "R2", campaign_id=pa.array([fits, too_big])))
        column = "campaign_id"
    con = warehouse(tmp_path)
    assert_accounted(con, contract, load_days(con, contract, tmp_path, [DAY]), 2)
    assert con.execute(f"select length({column}) from raw.{contract.raw_table}").fetchall() == [(200_000,)]
    line = 3 if contract is ORDERS else 2
    assert quarantine_reasons(con, contract) == {
        line: f"field {column}: 1,048,578 bytes, more than the 1 MiB a field may hold"
    }


@pytest.mark.parametrize("contract", [ORDERS, CONTACTS], ids=["csv", "jsonl"])
def test_a_record_longer_than_the_record_limit_is_quarantined(
    tmp_path: Path, contract: SourceContract
) -> None:
    # A 10 MB line (a blob pasted into an export) is one record too long, never a crash.
    blob = "x" * (RECORD_LIMIT_BYTES + 2 * 1024 * 1024)
    if contract is ORDERS:
        write_csv(ORDERS, tmp_path, DAY, HEADER, order("R1"), blob, order("R3"))
    else:
        write_text(
            CONTACTS,
            tmp_path,
            DAY,
            "\n".join([json.dumps(contact("R1")), blob, json.dumps(contact("R3"))]) + "\n",
        )
    con = warehouse(tmp_path)
    assert_accounted(con, contract, load_days(con, contract, tmp_path, [DAY]), 3)
    assert loaded_ids(con, contract) == ["R1", "R3"]
    [(reason, size)] = con.execute("select reason, length(raw_record) from raw.quarantine").fetchall()
    assert reason == "record too long: 10,485,760 bytes, more than the 8 MiB a record may hold"
    assert size == len(blob)


# A flat transactions file, read the loader's way


def import_flat(tmp_path: Path, content: str, **settings: Any) -> Any:
    source = tmp_path / "export.csv"
    source.write_bytes(content.encode())
    columns = {"customer_key": "customer", "ordered_at": "ordered_at", "amount": "total"}
    return import_transactions(
        source,
        TransactionsFile.model_validate({"columns": columns, **settings}),
        landing_dir=tmp_path / "landing",
        calendar=Calendar(start_date=date(2024, 1, 1), timezone="Europe/Berlin"),
        rejects_path=tmp_path / "rejects.csv",
    )


def test_a_flat_file_with_cr_line_ends_and_bad_quoting_rejects_only_the_bad_rows(tmp_path: Path) -> None:
    lines = [
        "customer,ordered_at,total",
        "C1,2024-03-01,1.00",
        '"C2"x,2024-03-01,2.00',
        "C3,0001-01-01T00:00:00+14:00,3.00",  # converting it to Berlin time leaves year 1
        "C4,2024-03-01,4.00",
    ]
    result = import_flat(tmp_path, "\r".join(lines) + "\r")
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (4, 2, 2)
    assert [(r.line_number, r.reason) for r in result.rejected] == [
        (3, "malformed quoting: field 1 (customer) has text after its closing quote"),
        (
            4,
            "ordered_at (column 'ordered_at'): '0001-01-01T00:00:00+14:00' falls outside the years 1 to 9999 in Europe/Berlin",
        ),
    ]


def test_a_flat_file_naming_a_mapped_column_twice_fails_naming_it(tmp_path: Path) -> None:
    with pytest.raises(
        TransactionsFileError,
        match=r"export\.csv: line 1 \(the header\) names the column of amount \('total'\) more than once",
    ):
        import_flat(tmp_path, "customer,ordered_at,total,total\nC1,2024-03-01,1.00,2.00\n")
    assert not (tmp_path / "landing").exists()


def test_decimal_text_in_parquet_keeps_every_digit() -> None:
    # Decimal.normalize() rounds to 28 digits: a 38-digit value must not change on its way to text.
    from sources.landing_parquet import number_text

    assert (
        number_text(Decimal("1234567890123456789012345678901234.5600"))
        == "1234567890123456789012345678901234.56"
    )
    assert number_text(120.0) == "120"
    assert number_text(Decimal("-0.00")) == "0"
