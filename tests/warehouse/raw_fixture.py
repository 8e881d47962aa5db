"""A small hand-made `raw` schema for the warehouse tests, its DDL derived from `sources.contracts`.

The tables are created with the loader's own DDL (`sources.raw_tables.ensure_raw_schema` over
`ALL_SOURCES`): the contract's columns, a `<col>_hash` beside each PII column and the load metadata
(`_export_date`, `_source_file`, `_line_number`, `_loaded_at`).
Hashes are plain strings here: the loader hashes normalised values, so the same person's e-mail written in
different case gets the same hash, which the rows below spell out directly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from sources.contracts import ALL_SOURCES, SourceContract
from sources.raw_tables import ensure_raw_schema

LANDING_DIR = Path("landing")
CONTRACTS_BY_TABLE: dict[str, SourceContract] = {c.raw_table: c for c in ALL_SOURCES}


def create_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema `raw` with one empty table per contract, with the loader's own DDL."""
    ensure_raw_schema(con, ALL_SOURCES)


def raw_column_names(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Column names of a raw table, in table order."""
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    return [name for (name,) in rows]


@dataclass(frozen=True)
class RawRow:
    """One exported line: the raw table, the export day it arrived in, and its contract values."""

    table: str
    export_date: date
    values: Mapping[str, Any]


def insert_rows(
    con: duckdb.DuckDBPyConnection, rows: Iterable[RawRow], loaded_at: datetime | None = None
) -> None:
    """Append rows to their raw tables; each (table, export day) is one file, lines numbered in order.

    Each row is stamped as loaded at `loaded_at`, or at 23:00 of its export day (a nightly load)."""
    line_numbers: dict[tuple[str, date], int] = defaultdict(int)
    for row in rows:
        contract = CONTRACTS_BY_TABLE[row.table]
        line_numbers[(row.table, row.export_date)] += 1
        metadata = {
            "_export_date": row.export_date,
            "_source_file": str(contract.file_for(LANDING_DIR, row.export_date)),
            "_line_number": row.values.get("_line_number", line_numbers[(row.table, row.export_date)]),
            "_loaded_at": loaded_at
            or datetime.combine(row.export_date, datetime.min.time()).replace(hour=23),
        }
        names = raw_column_names(con, row.table)
        unknown = set(row.values) - set(names)
        if unknown:
            raise ValueError(f"{row.table}: columns not in the contract: {sorted(unknown)}")
        values = [metadata[name] if name in metadata else row.values.get(name) for name in names]
        placeholders = ", ".join("?" for _ in names)
        quoted = ", ".join(f'"{name}"' for name in names)
        con.execute(f"insert into raw.{row.table} ({quoted}) values ({placeholders})", values)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _d(text: str) -> date:
    return date.fromisoformat(text)


# Export days used below; the incremental test splits them into two windows at WINDOW_SPLIT.
WINDOW_START = _d("2024-01-01")
WINDOW_SPLIT = _d("2024-02-15")
WINDOW_END = _d("2024-07-01")

ALICE_EMAIL_HASH = "a11ce0000000000000000000000000000000000000000000000000000000000a"
BOB_EMAIL_HASH = "b0b0000000000000000000000000000000000000000000000000000000000000b"
CAROL_EMAIL_HASH = "ca401000000000000000000000000000000000000000000000000000000000c0"
DAVE_PHONE_HASH = "da7e0000000000000000000000000000000000000000000000000000000000d0"


def _order(export: str, order_id: str, ordered_at: str, total: str, updated_at: str, **ids: Any) -> RawRow:
    channel = ids.pop("channel", "web")
    return RawRow(
        "sales_orders",
        _d(export),
        {
            "order_id": order_id,
            "channel": channel,
            "ordered_at": _ts(ordered_at),
            "currency": "EUR",
            "order_total": total,
            "updated_at": _ts(updated_at),
            **ids,
        },
    )


def _line(export: str, order_id: str, line: int, amount: str, updated_at: str) -> RawRow:
    return RawRow(
        "sales_order_lines",
        _d(export),
        {
            "order_id": order_id,
            "line_number": line,
            "sku": f"sku-{line}",
            "category": "Apparel",
            "quantity": 1,
            "unit_price": amount,
            "line_amount": amount,
            "updated_at": _ts(updated_at),
        },
    )


def fixture_rows() -> list[RawRow]:
    """The scenario every warehouse test reads; see the comments for what each group covers."""
    return [
        # --- identities -------------------------------------------------------------------------------
        # Alice: web account + CRM contact with the e-mail in another case (equal hashes), a duplicate
        # contact with the same e-mail, a loyalty card on the first contact, and a guest checkout.
        RawRow(
            "sales_customer_accounts",
            _d("2024-01-02"),
            {
                "account_id": "a-1",
                "email": "Alice@Example.com",
                "email_hash": ALICE_EMAIL_HASH,
                "created_at": _ts("2024-01-02 08:00:00"),
                "updated_at": _ts("2024-01-02 08:00:00"),
            },
        ),
        RawRow(
            "crm_contacts",
            _d("2024-01-03"),
            {
                "contact_id": "c-1",
                "email": "alice@example.com",
                "email_hash": ALICE_EMAIL_HASH,
                "region": "North",
                "age_band": "25-34",
                "acquisition_channel": "Search",
                "marketing_consent": True,
                "created_at": _ts("2024-01-03 09:00:00"),
                "updated_at": _ts("2024-01-03 09:00:00"),
            },
        ),
        # Alice moves south on 2024-05-15 and withdraws consent: features before keep 'north'.
        RawRow(
            "crm_contacts",
            _d("2024-05-15"),
            {
                "contact_id": "C-1",
                "email": "alice@example.com",
                "email_hash": ALICE_EMAIL_HASH,
                "region": "south",
                "age_band": "25-34",
                "acquisition_channel": "search",
                "marketing_consent": False,
                "created_at": _ts("2024-01-03 09:00:00"),
                "updated_at": _ts("2024-05-15 10:00:00"),
            },
        ),
        RawRow(
            "crm_contacts",
            _d("2024-01-10"),
            {
                "contact_id": "c-2",
                "email": "ALICE@example.com ",
                "email_hash": ALICE_EMAIL_HASH,
                "region": None,
                "age_band": None,
                "acquisition_channel": "referral",
                "marketing_consent": None,
                "created_at": _ts("2024-01-10 09:00:00"),
                "updated_at": _ts("2024-01-10 09:00:00"),
            },
        ),
        RawRow(
            "crm_loyalty_members",
            _d("2024-01-04"),
            {
                "card_number": "l-1",
                "contact_id": "c-1",
                "tier": "Bronze",
                "points_balance": 10,
                "enrolled_at": _ts("2024-01-04 10:00:00"),
                "updated_at": _ts("2024-01-04 10:00:00"),
            },
        ),
        # Bob: a CRM contact with a loyalty card, known to the shop only through store orders.
        RawRow(
            "crm_contacts",
            _d("2024-01-15"),
            {
                "contact_id": "c-3",
                "email": "bob@example.com",
                "email_hash": BOB_EMAIL_HASH,
                "region": "east",
                "age_band": "45-54",
                "acquisition_channel": "store",
                "marketing_consent": True,
                "created_at": _ts("2024-01-15 09:00:00"),
                "updated_at": _ts("2024-01-15 09:00:00"),
            },
        ),
        RawRow(
            "crm_loyalty_members",
            _d("2024-01-15"),
            {
                "card_number": "L-2",
                "contact_id": "C-3",
                "tier": "silver",
                "points_balance": 50,
                "enrolled_at": _ts("2024-01-15 09:30:00"),
                "updated_at": _ts("2024-01-15 09:30:00"),
            },
        ),
        # Dave: a web account without an e-mail, and a CRM contact without one that shares its phone:
        # one customer, anchored on his own records.
        RawRow(
            "sales_customer_accounts",
            _d("2024-03-01"),
            {
                "account_id": "A-2",
                "email": None,
                "email_hash": None,
                "phone": "+1 555 010 2000",
                "phone_hash": DAVE_PHONE_HASH,
                "created_at": _ts("2024-03-01 08:00:00"),
                "updated_at": _ts("2024-03-01 08:00:00"),
            },
        ),
        RawRow(
            "crm_contacts",
            _d("2024-03-02"),
            {
                "contact_id": "C-5",
                "email": None,
                "email_hash": None,
                "phone": "(555) 010-2000",
                "phone_hash": DAVE_PHONE_HASH,
                "region": "capital",
                "age_band": "55-64",
                "acquisition_channel": None,
                "marketing_consent": None,
                "created_at": _ts("2024-03-02 08:00:00"),
                "updated_at": _ts("2024-03-02 08:00:00"),
            },
        ),
        # Carol's card L-3 is used in a store on 2024-02-03 but her contact and card only reach the CRM
        # export on 2024-03-01 (second window): the order's customer must follow the card to her e-mail.
        RawRow(
            "crm_contacts",
            _d("2024-03-01"),
            {
                "contact_id": "C-4",
                "email": "carol@example.com",
                "email_hash": CAROL_EMAIL_HASH,
                "region": "west",
                "age_band": "35-44",
                "acquisition_channel": "store",
                "marketing_consent": False,
                "created_at": _ts("2024-01-20 09:00:00"),
                "updated_at": _ts("2024-03-01 09:00:00"),
            },
        ),
        RawRow(
            "crm_loyalty_members",
            _d("2024-03-01"),
            {
                "card_number": "L-3",
                "contact_id": "C-4",
                "tier": "gold",
                "points_balance": 500,
                "enrolled_at": _ts("2024-01-20 09:30:00"),
                "updated_at": _ts("2024-03-01 09:30:00"),
            },
        ),
        # --- orders -----------------------------------------------------------------------------------
        # O-1: Alice's web order, updated in the second window with a third line; the update is in its
        # file twice with the same updated_at (the higher line wins).
        _order("2024-01-05", "O-1", "2024-01-05 10:00:00", "100.00", "2024-01-05 10:00:00", account_id="a-1"),
        _line("2024-01-05", "O-1", 1, "60.00", "2024-01-05 10:00:00"),
        _line("2024-01-05", "O-1", 2, "40.00", "2024-01-05 10:00:00"),
        _order("2024-03-05", "O-1", "2024-01-05 10:00:00", "110.00", "2024-03-04 12:00:00", account_id="A-1"),
        _order("2024-03-05", "o-1", "2024-01-05 10:00:00", "120.00", "2024-03-04 12:00:00", account_id="A-1"),
        _line("2024-03-05", "O-1", 3, "20.00", "2024-03-04 12:00:00"),
        # O-2: Alice's guest checkout (same e-mail hash).
        _order(
            "2024-01-20",
            "O-2",
            "2024-01-20 18:30:00",
            "50.00",
            "2024-01-20 18:30:00",
            guest_email="ALICE@EXAMPLE.COM",
            guest_email_hash=ALICE_EMAIL_HASH,
        ),
        _line("2024-01-20", "O-2", 1, "50.00", "2024-01-20 18:30:00"),
        # O-3: Bob's store order with his card; refunded late (exported in the second window).
        _order(
            "2024-02-01",
            "O-3",
            "2024-02-01 11:00:00",
            "80.00",
            "2024-02-01 11:00:00",
            channel="store",
            store_id="s-01",
            loyalty_card="l-2",
        ),
        _line("2024-02-01", "O-3", 1, "80.00", "2024-02-01 11:00:00"),
        RawRow(
            "sales_refunds",
            _d("2024-03-20"),
            {
                "refund_id": "R-1",
                "order_id": "O-3",
                "refunded_at": _ts("2024-03-20 15:00:00"),
                "amount": "30.00",
                "reason": "Damaged",
                "updated_at": _ts("2024-03-20 15:00:00"),
            },
        ),
        # O-4: an anonymous store order (no card, no account, no guest e-mail).
        _order(
            "2024-02-05",
            "O-4",
            "2024-02-05 12:00:00",
            "40.00",
            "2024-02-05 12:00:00",
            channel="store",
            store_id="S-02",
        ),
        _line("2024-02-05", "O-4", 1, "40.00", "2024-02-05 12:00:00"),
        # O-5: Dave's web order from his e-mail-less account.
        _order("2024-03-10", "O-5", "2024-03-10 09:00:00", "60.00", "2024-03-10 09:00:00", account_id="A-2"),
        _line("2024-03-10", "O-5", 1, "60.00", "2024-03-10 09:00:00"),
        # O-6: Carol's store order with card L-3, exported before her card is known.
        _order(
            "2024-02-03",
            "O-6",
            "2024-02-03 16:00:00",
            "70.00",
            "2024-02-03 16:00:00",
            channel="store",
            store_id="S-01",
            loyalty_card="L-3",
        ),
        _line("2024-02-03", "O-6", 1, "70.00", "2024-02-03 16:00:00"),
        # O-7 lands exactly on the 2024-05-01 snapshot instant (excluded there); O-8 a second before it.
        _order("2024-05-01", "O-7", "2024-05-01 00:00:00", "90.00", "2024-05-01 00:00:00", account_id="A-1"),
        _line("2024-05-01", "O-7", 1, "90.00", "2024-05-01 00:00:00"),
        _order(
            "2024-05-01",
            "O-8",
            "2024-04-30 23:59:59",
            "25.00",
            "2024-04-30 23:59:59",
            channel="store",
            store_id="S-02",
            loyalty_card="L-2",
        ),
        _line("2024-05-01", "O-8", 1, "25.00", "2024-04-30 23:59:59"),
        # --- CRM activity -----------------------------------------------------------------------------
        RawRow(
            "crm_support_tickets",
            _d("2024-04-10"),
            {
                "ticket_id": "T-1",
                "contact_id": "C-2",
                "opened_at": _ts("2024-04-10 10:00:00"),
                "category": "Complaint ",
                "status": "open",
                "satisfaction_score": None,
                "updated_at": _ts("2024-04-10 10:00:00"),
            },
        ),
        RawRow(
            "crm_marketing_events",
            _d("2024-04-20"),
            {
                "event_id": "E-1",
                "contact_id": "C-1",
                "campaign_id": "spring",
                "event_type": "opened",
                "occurred_at": _ts("2024-04-20 08:00:00"),
            },
        ),
        RawRow(
            "crm_marketing_events",
            _d("2024-04-20"),
            {
                "event_id": "E-2",
                "contact_id": "C-1",
                "campaign_id": "spring",
                "event_type": "Clicked",
                "occurred_at": _ts("2024-04-20 08:05:00"),
            },
        ),
        RawRow(
            "crm_marketing_events",
            _d("2024-05-20"),
            {
                "event_id": "E-3",
                "contact_id": "C-1",
                "campaign_id": "summer",
                "event_type": "unsubscribed",
                "occurred_at": _ts("2024-05-20 08:00:00"),
            },
        ),
        # The last export day: orders exported up to 2024-06-15, so scoring defaults to 2024-06-16.
        _order("2024-06-15", "O-9", "2024-06-15 10:00:00", "35.00", "2024-06-15 10:00:00", account_id="A-2"),
        _line("2024-06-15", "O-9", 1, "35.00", "2024-06-15 10:00:00"),
    ]


def unresolved_customer_rows() -> list[RawRow]:
    """Facts no customer can be resolved to, and an order known only by its customer number, on top of
    `fixture_rows()` (which the KPI tests read as is)."""
    return [
        # O-10: a store order with a loyalty card that no card export knows
        _order(
            "2024-03-12",
            "O-10",
            "2024-03-12 12:00:00",
            "15.00",
            "2024-03-12 12:00:00",
            channel="store",
            loyalty_card="L-404",
        ),
        _line("2024-03-12", "O-10", 1, "15.00", "2024-03-12 12:00:00"),
        # O-11: a minimal order (no channel, currency or updated_at) carrying only the shop's customer
        # number A-77, which no account export describes: the number alone makes a customer
        RawRow(
            "sales_orders",
            _d("2024-03-14"),
            {
                "order_id": "O-11",
                "account_id": "A-77",
                "ordered_at": _ts("2024-03-14 09:30:00"),
                "order_total": "21.50",
            },
        ),
        # a refund of the anonymous store order O-4
        RawRow(
            "sales_refunds",
            _d("2024-03-25"),
            {
                "refund_id": "R-2",
                "order_id": "O-4",
                "refunded_at": _ts("2024-03-25 10:00:00"),
                "amount": "5.00",
                "reason": "changed mind",
                "updated_at": _ts("2024-03-25 10:00:00"),
            },
        ),
        # T-2 and E-4: a ticket and an e-mail event of a contact that no contact export knows
        RawRow(
            "crm_support_tickets",
            _d("2024-04-11"),
            {
                "ticket_id": "T-2",
                "contact_id": "C-404",
                "opened_at": _ts("2024-04-11 10:00:00"),
                "category": "question",
                "status": "closed",
                "satisfaction_score": 4,
                "updated_at": _ts("2024-04-11 10:00:00"),
            },
        ),
        RawRow(
            "crm_marketing_events",
            _d("2024-04-20"),
            {
                "event_id": "E-4",
                "contact_id": "C-404",
                "campaign_id": "spring",
                "event_type": "sent",
                "occurred_at": _ts("2024-04-20 07:00:00"),
            },
        ),
    ]


def build_raw_warehouse(path: str, rows: Iterable[RawRow] | None = None) -> None:
    """Create a DuckDB file at `path` with the raw schema and `rows` (default: the whole fixture)."""
    con = duckdb.connect(path)
    try:
        create_raw_schema(con)
        insert_rows(con, fixture_rows() if rows is None else rows)
    finally:
        con.close()
