"""One export day of one source as text values, whatever it came from: a landing file or the shop database.

The raw layer (`sources.raw_tables`) types and loads batches; the readers (`sources.landing`,
`sources.shop_database`) only build them. Nothing read is dropped: every record ends up in `columns`
(with its locator and raw text) or in `quarantined` with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from sources.contracts import SourceContract

LINE_NUMBER = "_line_number"
RAW_RECORD = "_raw"


def records_schema(column_names: Iterable[str]) -> pa.Schema:
    """The shape of kept records: a text column per contract column, then their locator and raw text."""
    return pa.schema(
        [
            *((name, pa.string()) for name in column_names),
            (LINE_NUMBER, pa.int64()),
            (RAW_RECORD, pa.string()),
        ]
    )


@dataclass(frozen=True)
class QuarantinedRecord:
    line_number: int
    raw_record: str
    reason: str


@dataclass
class SourceBatch:
    """The records of one export day: text values per contract column, plus what could not be read.

    `origin` names where the records came from (a file path, or a database table address without
    credentials); `line_numbers` locate each record in it (the file line, the Parquet row number, or the
    row's place in the extract ordered by key). `added_columns` and `missing_columns` record how the
    source's shape differed from its contract: extra columns are ignored, missing optional ones are NULL.
    `notes` say what was read other than the file declared or ignored as no record (an end-of-file
    marker, a byte-order mark naming another encoding), so a reader that had to decide says so.

    Readers keep records one at a time (`keep`, into `columns`) or a block at a time (`keep_table`, into
    `tables`): a block is how a file of millions of plain records is read without a Python object per
    value. `records()` is both as one table (the ones kept one at a time first).
    """

    contract: SourceContract
    origin: str
    export_date: date
    columns: dict[str, list[str | None]] = field(default_factory=dict)
    line_numbers: list[int] = field(default_factory=list)
    raw_records: list[str] = field(default_factory=list)
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    added_columns: tuple[str, ...] = ()
    missing_columns: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    tables: list[pa.Table] = field(default_factory=list)

    @property
    def rows_kept(self) -> int:
        return len(self.line_numbers) + sum(table.num_rows for table in self.tables)

    @property
    def rows_read(self) -> int:
        return self.rows_kept + len(self.quarantined)

    @property
    def schema_changes(self) -> dict[str, list[str]]:
        """`{"added": [...], "missing": [...]}` when the shape differed from the contract, else empty."""
        if not self.added_columns and not self.missing_columns:
            return {}
        return {"added": list(self.added_columns), "missing": list(self.missing_columns)}

    def keep(self, line_number: int, raw: str, values: Iterable[str | None]) -> None:
        """Add a readable record: its locator, its raw text, and its values in `columns` order.

        The one place every reader keeps a record, so the locators, raw texts and columns stay aligned.
        """
        self.line_numbers.append(line_number)
        self.raw_records.append(raw)
        for column, value in zip(self.columns.values(), values, strict=True):
            column.append(value)

    def keep_table(self, records: pa.Table) -> None:
        """Add a block of readable records: a text column per contract column, LINE_NUMBER and RAW_RECORD."""
        expected = [*self.columns, LINE_NUMBER, RAW_RECORD]
        if records.column_names != expected:
            raise ValueError(f"a block of records has columns {records.column_names}, not {expected}")
        self.tables.append(records)

    def records(self) -> pa.Table:
        """Every kept record: a text column per contract column, LINE_NUMBER (int64) and RAW_RECORD."""
        schema = records_schema(self.columns)
        kept_one_by_one = pa.table(
            [*self.columns.values(), self.line_numbers, self.raw_records], schema=schema
        )
        return pa.concat_tables([kept_one_by_one, *(table.cast(schema) for table in self.tables)])

    def quarantine(self, line_number: int, raw: str, reason: str) -> None:
        """Set a record aside with the reason it cannot be read; it still counts as read."""
        self.quarantined.append(QuarantinedRecord(line_number, raw, reason))

    def compare_shape(self, present: Iterable[str]) -> tuple[str, ...]:
        """Note the added and missing optional columns of `present`; return the required ones missing.

        The reader decides what a missing required column costs (the whole file), so this only reports.
        """
        present = list(present)
        contract = self.contract
        self.added_columns = tuple(name for name in present if name not in contract.column_names)
        self.missing_columns = tuple(name for name in contract.column_names if name not in present)
        return tuple(name for name in contract.required_columns if name not in present)
