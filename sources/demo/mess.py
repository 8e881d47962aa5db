"""Realistic dirt in the landing files, every kind counted so the truth summary can say what was injected.

- Late records: ~3% of orders (with their lines) arrive 1-3 export days after the order day.
- Re-exports: ~2% of orders come again up to two weeks later with a newer updated_at, their lines with
  them; a store order's first export then carries a wrong store_id that the re-export corrects.
- Exact duplicates: ~0.5% of the rows of every file appear twice, right after each other.
- Malformed rows: ~0.2% of rows (at least one of each kind per source of 50+ rows) are damaged in
  place, one kind per row and never a duplicated row:

| kind                   | formats    | what the row looks like                                        |
|------------------------|------------|----------------------------------------------------------------|
| extra_field            | CSV        | one more field than the header (',manual correction' appended) |
| unparseable_amount     | CSV        | first money column like '12,5O'                                |
| unparseable_timestamp  | CSV, JSONL | first timestamp column like '31/02/2025 10:00'                 |
| missing_required_value | all        | first required column (the key) empty / null                   |
| invalid_json           | JSONL      | line cut off after 40 characters                               |
| wrong_type             | JSONL      | first integer or boolean field a string ('lots', 'yes')        |

A typed Parquet export has no structure to break and no spelling to garble: a timestamp column holds
timestamps. What a CRM can still get wrong there is an empty value, so that is the only kind it gets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sources.contracts import FileFormat, SourceContract
from sources.demo import text
from sources.demo.behaviour import STORES_PER_REGION, Orders
from sources.demo.population import REGIONS
from sources.demo.records import Columns, OrderExports
from sources.demo.timeline import SECONDS_PER_DAY, Timeline

LATE_SHARE = 0.03
LATE_DAYS = (1, 3)
REEXPORT_SHARE = 0.02
REEXPORT_DELAY_DAYS = (1, 14)
DUPLICATE_SHARE = 0.005
MALFORMED_SHARE = 0.002
MIN_ROWS_FOR_EVERY_KIND = 50
EXTRA_FIELD = ",manual correction"
TRUNCATED_LENGTH = 40
WRONG_TYPE_VALUES = {"INTEGER": "lots", "BOOLEAN": "yes"}


class Malformation(StrEnum):
    EXTRA_FIELD = "extra_field"
    UNPARSEABLE_AMOUNT = "unparseable_amount"
    UNPARSEABLE_TIMESTAMP = "unparseable_timestamp"
    MISSING_REQUIRED_VALUE = "missing_required_value"
    INVALID_JSON = "invalid_json"
    WRONG_TYPE = "wrong_type"


@dataclass(frozen=True)
class LateOrders:
    orders: int
    lines: int


def plan_order_exports(
    orders: Orders, timeline: Timeline, rng: np.random.Generator
) -> tuple[OrderExports, LateOrders]:
    """Export rows of the orders inside the period: on their day, a few days late, and re-exported."""
    order = np.arange(orders.exported)
    version = orders.seconds[order]
    day = version // SECONDS_PER_DAY
    last_day = timeline.n_days - 1
    delay = np.where(
        rng.random(order.size) < LATE_SHARE, rng.integers(LATE_DAYS[0], LATE_DAYS[1] + 1, order.size), 0
    )
    delay = np.minimum(delay, last_day - day)  # a late order still arrives inside the period
    first_day = day + delay
    late = delay > 0

    low, high = REEXPORT_DELAY_DAYS
    again_day = first_day + rng.integers(low, high + 1, size=order.size)
    again = (rng.random(order.size) < REEXPORT_SHARE) & (again_day <= last_day)
    again_version = again_day * SECONDS_PER_DAY + rng.integers(0, SECONDS_PER_DAY, size=order.size)
    n_stores = len(REGIONS) * STORES_PER_REGION
    wrong_store = (orders.store[order] + rng.integers(1, n_stores, size=order.size)) % n_stores
    corrected = again & orders.in_store[order]
    first_store = np.where(corrected, wrong_store, orders.store[order])

    exports = OrderExports(
        order=np.concatenate([order, order[again]]),
        export_day=np.concatenate([first_day, again_day[again]]),
        version=np.concatenate([version, again_version[again]]),
        store=np.concatenate([first_store, orders.store[order][again]]),
    )
    return exports, LateOrders(orders=int(late.sum()), lines=int(orders.line_count[order[late]].sum()))


def pick_duplicates(n: int, rng: np.random.Generator) -> np.ndarray:
    """Which of `n` rows are written twice (~0.5%), as a mask."""
    duplicated = np.zeros(n, dtype=bool)
    duplicated[rng.choice(n, size=round(n * DUPLICATE_SHARE), replace=False)] = True
    return duplicated


def malformations(contract: SourceContract) -> tuple[Malformation, ...]:
    """The kinds of damage that make sense for a source's format and column types."""
    if contract.format is FileFormat.PARQUET:
        return (Malformation.MISSING_REQUIRED_VALUE,)
    types = [c.type for c in contract.columns]
    kinds = [Malformation.UNPARSEABLE_TIMESTAMP, Malformation.MISSING_REQUIRED_VALUE]
    if contract.format is FileFormat.CSV:
        kinds.insert(0, Malformation.EXTRA_FIELD)
        if any(t.startswith("DECIMAL") for t in types):
            kinds.append(Malformation.UNPARSEABLE_AMOUNT)
    else:
        kinds.insert(0, Malformation.INVALID_JSON)
        if any(t in WRONG_TYPE_VALUES for t in types):
            kinds.append(Malformation.WRONG_TYPE)
    return tuple(kinds)


def _first_column(contract: SourceContract, kind: Malformation) -> str:
    """The column a field-level malformation damages."""
    if kind is Malformation.UNPARSEABLE_AMOUNT:
        return next(c.name for c in contract.columns if c.type.startswith("DECIMAL"))
    if kind is Malformation.UNPARSEABLE_TIMESTAMP:
        return next(c.name for c in contract.columns if c.type == "TIMESTAMP")
    if kind is Malformation.WRONG_TYPE:
        return next(c.name for c in contract.columns if c.type in WRONG_TYPE_VALUES)
    return contract.required_columns[0]


def _damaged_values(contract: SourceContract, kind: Malformation, values: pa.Array) -> pa.Array:
    """Replacement text for the damaged field of each given row."""
    if kind is Malformation.UNPARSEABLE_AMOUNT:  # '12.50' -> '12,5O'
        return text.concat(pc.replace_substring(pc.utf8_slice_codeunits(values, 0, -1), ".", ","), "O")
    if kind is Malformation.UNPARSEABLE_TIMESTAMP:  # '2025-02-14T10:00:00' -> '31/02/2025 10:00'
        return text.concat(
            "31/02/", pc.utf8_slice_codeunits(values, 0, 4), " ", pc.utf8_slice_codeunits(values, 11, 16)
        )
    if kind is Malformation.WRONG_TYPE:
        column_type = next(c.type for c in contract.columns if c.name == _first_column(contract, kind))
        return text.constant(WRONG_TYPE_VALUES[column_type], len(values))
    return pa.nulls(len(values), type=text.TEXT)


@dataclass(frozen=True)
class Malformed:
    """Which rows of a source's files (positions in file order) are damaged, and how."""

    contract: SourceContract
    positions: dict[Malformation, np.ndarray]

    def counts(self) -> dict[str, int]:
        return {kind.value: int(rows.size) for kind, rows in self.positions.items()}

    def _within(self, kind: Malformation, first: int, n: int) -> np.ndarray:
        rows = self.positions.get(kind, np.zeros(0, dtype=np.int64))
        return rows[(rows >= first) & (rows < first + n)] - first

    def damage_fields(self, columns: Columns, first: int) -> Columns:
        """Columns of rows [first, first + n) with the field-level damage applied."""
        n = len(next(iter(columns.values())))
        damaged = dict(columns)
        for kind in self.positions:
            if kind in _LINE_LEVEL:
                continue
            name = _first_column(self.contract, kind)
            damaged[name] = _replace_rows(
                damaged[name], self._within(kind, first, n), partial(_damaged_values, self.contract, kind)
            )
        return damaged

    def damage_lines(self, lines: pa.Array, first: int) -> pa.Array:
        """Rendered lines (line ends included) of rows [first, first + len(lines)), line-level damage applied."""
        for kind, change in _LINE_LEVEL.items():
            lines = _replace_rows(lines, self._within(kind, first, len(lines)), change)
        return lines


def _replace_rows(values: pa.Array, rows: np.ndarray, change: Callable[[pa.Array], pa.Array]) -> pa.Array:
    return text.replace_rows(values, rows, change(values.take(pa.array(rows)))) if rows.size else values


def _without_line_end(lines: pa.Array) -> pa.Array:
    return pc.utf8_slice_codeunits(lines, 0, -1)


_LINE_LEVEL: dict[Malformation, Callable[[pa.Array], pa.Array]] = {
    Malformation.EXTRA_FIELD: lambda lines: text.concat(_without_line_end(lines), EXTRA_FIELD, "\n"),
    Malformation.INVALID_JSON: lambda lines: text.concat(
        pc.utf8_slice_codeunits(lines, 0, TRUNCATED_LENGTH), "\n"
    ),
}


def plan_malformed(contract: SourceContract, duplicated: np.ndarray, rng: np.random.Generator) -> Malformed:
    """Pick the rows to damage, per kind, among the rows (in file order) that are not duplicated."""
    kinds = malformations(contract)
    candidates = np.flatnonzero(~duplicated)
    per_kind = round(duplicated.size * MALFORMED_SHARE / len(kinds))
    if duplicated.size >= MIN_ROWS_FOR_EVERY_KIND:
        per_kind = max(per_kind, 1)
    per_kind = min(per_kind, candidates.size // len(kinds))
    chosen = rng.choice(candidates, size=per_kind * len(kinds), replace=False).reshape(len(kinds), per_kind)
    return Malformed(contract, {kind: np.sort(rows) for kind, rows in zip(kinds, chosen, strict=True)})
