"""A CSV export read line by line is read exactly as record by record.

`sources.landing_csv` reads a text without CRs line by line (`_read_by_lines`: lines without quotes as
one Arrow block, lines with quotes each as a record) unless a quoted field may span lines, and every
other text one record at a time. The line path is only allowed to be faster: on random texts (blank
lines, short and long records, empty values, quoted values with delimiters, doubled and stray quotes,
quoted line breaks, columns added, missing and out of order, non-ASCII text) both paths keep the same
records with the same values, locators and raw text, quarantine the same ones for the same reasons, and
fail the same files with the same message.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from landing_fixture import SAME_READS, read_outcome

import sources.landing_csv as landing_csv
from sources.batches import SourceBatch
from sources.contracts import ORDERS
from sources.landing import LandingFileError

DAY = date(2024, 3, 1)
DELIMITER = ORDERS.delimiter

_plain_value = st.text(
    alphabet=st.sampled_from(["a", "1", " ", "-", ":", "é", "\t", "\x00", "ß", DELIMITER]), max_size=6
)
# Quotes in a value: most such texts hold a quote that may span lines, which sends the whole text record
# by record, so only some texts get them and the others exercise the block of lines without quotes.
_any_value = st.one_of(
    _plain_value,
    st.text(alphabet=st.sampled_from(["a", '"', DELIMITER, "\n", " "]), max_size=6).map(lambda v: f'"{v}"'),
    st.text(alphabet=st.sampled_from(["a", '"', DELIMITER]), max_size=4),
)
_OPTIONAL = [name for name in ORDERS.column_names if name not in ORDERS.required_columns]


@st.composite
def _names(draw: st.DrawFn) -> list[str]:
    """Mostly a usable header (the required columns, some optional ones, extras, in any order)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.lists(st.sampled_from([*ORDERS.column_names, "note"]), max_size=12))
    names = [*ORDERS.required_columns, *draw(st.lists(st.sampled_from(_OPTIONAL), unique=True))]
    names += draw(st.lists(st.sampled_from(["coupon", "note"]), unique=True))
    return draw(st.permutations(names))


@st.composite
def plain_texts(draw: st.DrawFn) -> str:
    names = draw(_names())
    lines = [DELIMITER.join(names)] if draw(st.booleans()) or not names else []
    value = _any_value if draw(st.booleans()) else _plain_value
    for _ in range(draw(st.integers(0, 12))):
        width = draw(st.sampled_from([len(names), len(names), len(names) - 1, len(names) + 1, 0]))
        lines.append(DELIMITER.join(draw(value) for _ in range(max(width, 0))))
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), "")
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


def _read(text: str, plain: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[object, ...] | str:
    batch = SourceBatch(ORDERS, "orders.csv", DAY, columns={c: [] for c in ORDERS.column_names})
    with monkeypatch.context() as patch:
        if not plain:
            patch.setattr(landing_csv, "_read_by_lines", lambda text, batch: False)
        try:
            landing_csv.parse_csv(text, batch)
        except LandingFileError as error:
            return str(error)
    return read_outcome(batch)


@SAME_READS
@given(text=plain_texts())
def test_plain_texts_read_the_same_a_block_or_a_record_at_a_time(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _read(text, True, monkeypatch) == _read(text, False, monkeypatch)


def _batch() -> SourceBatch:
    return SourceBatch(ORDERS, "orders.csv", DAY, columns={c: [] for c in ORDERS.column_names})


HEADER = DELIMITER.join(ORDERS.column_names)
ROW = DELIMITER.join(["O1", "A1", "", "", "web", "", "2024-03-01T10:00:00", "EUR", "1.00", ""])
QUOTED = DELIMITER.join(["O2", "A1", "", "", "web", '"Main St, 5"', "2024-03-01T10:00:00", "EUR", "1.00", ""])


def test_lines_without_quotes_are_read_as_one_block() -> None:
    batch = _batch()
    assert landing_csv._read_by_lines(f"{HEADER}\n{ROW}\n{QUOTED}\n{ROW},x\n", batch)
    assert len(batch.tables) == 1 and batch.tables[0].column("_line_number").to_pylist() == [2]
    assert batch.line_numbers == [3]  # the quoted line, read as a record of its own
    assert [(q.line_number, q.reason) for q in batch.quarantined] == [(4, "expected 10 fields, found 11")]


@pytest.mark.parametrize(
    "text",
    [
        f"{HEADER}\n{ROW}\r\n",  # a CR
        f"{HEADER}\n{ROW}\n" + "x" * (1 << 19) + "\n",  # a line that may hold a value over the limit
        f'{HEADER}\n{QUOTED}"line one\nline two"\n',  # a quoted line break
        f'"{HEADER}"\n{ROW}\n',  # a quoted header
    ],
)
def test_texts_whose_lines_may_not_be_records_are_read_record_by_record(text: str) -> None:
    assert not landing_csv._read_by_lines(text, _batch())
