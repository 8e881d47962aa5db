"""The contract of every landing source: where its files lie, their format, columns, types and keys.

Both sides of the landing folder read this module: the demo generator writes files that honour it and
the ingestion assets load files against it, so a change to a source is a change here first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path


class FileFormat(StrEnum):
    """How an export file is written; the value is also the file's extension."""

    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


@dataclass(frozen=True)
class Column:
    """One column of a source: its name, DuckDB type and whether a row without it is unusable."""

    name: str
    type: str
    required: bool = False
    pii: bool = False


@dataclass(frozen=True)
class SourceContract:
    """A landing source: one file per export day at `<landing>/<system>/<name>/<YYYY-MM-DD>.<ext>`.

    The export day (the file's date) is the daily partition the rows load into; a record's own business
    date may be earlier (late-arriving records) and the same key may arrive again in a later export with
    a newer `updated_at`. `encoding` applies to CSV and JSON lines (UTF-8 accepts a byte-order mark);
    `delimiter` and `quote_char` to CSV only. Parquet carries its own encoding and types.
    """

    system: str
    name: str
    format: FileFormat
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description: str
    encoding: str = "utf-8"
    delimiter: str = ","
    quote_char: str = '"'
    version_column: str = "updated_at"

    @property
    def raw_table(self) -> str:
        return f"{self.system}_{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def file_for(self, landing_dir: Path, export_date: date) -> Path:
        return landing_dir / self.system / self.name / f"{export_date.isoformat()}.{self.format.value}"


def _cols(*specs: str) -> tuple[Column, ...]:
    """Columns from compact specs: `name:TYPE`, with `!` for required and `*` for PII."""
    columns = []
    for spec in specs:
        name, _, rest = spec.partition(":")
        flags = rest.rstrip("!*")
        columns.append(Column(name=name, type=flags, required="!" in rest, pii="*" in rest))
    return tuple(columns)


CUSTOMER_ACCOUNTS = SourceContract(
    system="sales",
    name="customer_accounts",
    format=FileFormat.CSV,
    columns=_cols(
        "account_id:VARCHAR!",
        "email:VARCHAR*",
        "phone:VARCHAR*",
        "created_at:TIMESTAMP!",
        "updated_at:TIMESTAMP!",
    ),
    key=("account_id",),
    description="Web-shop accounts created or changed on the export day.",
)

ORDERS = SourceContract(
    system="sales",
    name="orders",
    format=FileFormat.CSV,
    columns=_cols(
        "order_id:VARCHAR!",
        "account_id:VARCHAR",
        "guest_email:VARCHAR*",
        "loyalty_card:VARCHAR",
        "channel:VARCHAR",
        "store_id:VARCHAR",
        "ordered_at:TIMESTAMP!",
        "currency:VARCHAR",
        "order_total:DECIMAL(12,2)!",
        "updated_at:TIMESTAMP",
    ),
    key=("order_id",),
    description=(
        "Orders from the web shop (an account, the shop's customer number, or a guest e-mail) and the "
        "stores (a loyalty card when shown). Totals are gross, in the order currency, before refunds. An "
        "order id, a timestamp and a total are all an order needs: without a channel or currency it has "
        "the configured default, without updated_at its version is its order time."
    ),
)

ORDER_LINES = SourceContract(
    system="sales",
    name="order_lines",
    format=FileFormat.CSV,
    columns=_cols(
        "order_id:VARCHAR!",
        "line_number:INTEGER!",
        "sku:VARCHAR!",
        "category:VARCHAR!",
        "quantity:INTEGER!",
        "unit_price:DECIMAL(12,2)!",
        "line_amount:DECIMAL(12,2)!",
        "updated_at:TIMESTAMP!",
    ),
    key=("order_id", "line_number"),
    description="Order lines; the line amounts of an order add up to its order_total.",
)

REFUNDS = SourceContract(
    system="sales",
    name="refunds",
    format=FileFormat.CSV,
    columns=_cols(
        "refund_id:VARCHAR!",
        "order_id:VARCHAR!",
        "refunded_at:TIMESTAMP!",
        "amount:DECIMAL(12,2)!",
        "reason:VARCHAR",
        "updated_at:TIMESTAMP!",
    ),
    key=("refund_id",),
    description="Returns and refunds against earlier orders; amount is positive money paid back.",
)

CONTACTS = SourceContract(
    system="crm",
    name="contacts",
    format=FileFormat.JSONL,
    columns=_cols(
        "contact_id:VARCHAR!",
        "email:VARCHAR*",
        "phone:VARCHAR*",
        "region:VARCHAR",
        "age_band:VARCHAR",
        "acquisition_channel:VARCHAR",
        "marketing_consent:BOOLEAN",
        "created_at:TIMESTAMP!",
        "updated_at:TIMESTAMP!",
    ),
    key=("contact_id",),
    description="CRM contacts created or changed on the export day (full record each time).",
)

LOYALTY_MEMBERS = SourceContract(
    system="crm",
    name="loyalty_members",
    format=FileFormat.JSONL,
    columns=_cols(
        "card_number:VARCHAR!",
        "contact_id:VARCHAR!",
        "tier:VARCHAR!",
        "points_balance:INTEGER",
        "enrolled_at:TIMESTAMP!",
        "updated_at:TIMESTAMP!",
    ),
    key=("card_number",),
    description="Loyalty cards and their tier (bronze, silver, gold); a card belongs to one contact.",
)

SUPPORT_TICKETS = SourceContract(
    system="crm",
    name="support_tickets",
    format=FileFormat.JSONL,
    columns=_cols(
        "ticket_id:VARCHAR!",
        "contact_id:VARCHAR!",
        "opened_at:TIMESTAMP!",
        "category:VARCHAR!",
        "status:VARCHAR!",
        "satisfaction_score:INTEGER",
        "updated_at:TIMESTAMP!",
    ),
    key=("ticket_id",),
    description="Support tickets (category complaint, question, delivery, return) and their status.",
)

# The highest-volume source: the CRM exports it as typed Parquet (occurred_at a real timestamp).
MARKETING_EVENTS = SourceContract(
    system="crm",
    name="marketing_events",
    format=FileFormat.PARQUET,
    columns=_cols(
        "event_id:VARCHAR!",
        "contact_id:VARCHAR!",
        "campaign_id:VARCHAR!",
        "event_type:VARCHAR!",
        "occurred_at:TIMESTAMP!",
    ),
    key=("event_id",),
    description="E-mail marketing events: sent, opened, clicked, unsubscribed. Events never change.",
    version_column="occurred_at",
)

SALES_SOURCES: tuple[SourceContract, ...] = (CUSTOMER_ACCOUNTS, ORDERS, ORDER_LINES, REFUNDS)
CRM_SOURCES: tuple[SourceContract, ...] = (CONTACTS, LOYALTY_MEMBERS, SUPPORT_TICKETS, MARKETING_EVENTS)
ALL_SOURCES: tuple[SourceContract, ...] = SALES_SOURCES + CRM_SOURCES
