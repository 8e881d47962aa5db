"""One export day of one source as text values, whatever it came from: a landing file or the shop database.

The raw layer (`sources.raw_tables`) types and loads batches; the readers (`sources.landing`,
`sources.shop_database`) only build them. Nothing read is dropped: every record ends up in `columns`
(with its locator and raw text) or in `quarantined` with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sources.contracts import SourceContract


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

    @property
    def rows_read(self) -> int:
        return len(self.line_numbers) + len(self.quarantined)

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
