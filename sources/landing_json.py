"""JSON lines landing files: one strict JSON object per line, each loaded or quarantined.

A line is a record (line ends as in `sources.landing_text`); a line holding only spaces or tabs holds
none. Strict means what RFC 8259 allows and nothing it leaves open: `NaN` and `Infinity` are not JSON,
and a member named twice in one object has no one value, so such lines are quarantined. Values are the
text as sent: a number keeps its spelling (`1.10` stays `1.10`, `4.0E+3` stays `4.0E+3`), so typing it
happens in one strict place, the warehouse. Members the contract does not know are ignored whatever they
hold (and reported as added); only a contract member holding an object or array costs its line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from sources.batches import LINE_NUMBER, RAW_RECORD, SourceBatch
from sources.landing_text import (
    FIELD_LIMIT_BYTES,
    RECORD_LIMIT_BYTES,
    LandingFileError,
    lone_surrogate,
    shown,
    text_lines,
    too_big,
)

# A lone surrogate, or the escape that may decode to one (a pair decodes to a character and passes).
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")


class _Number(str):
    """A JSON number as it was spelled in the line."""


class _NotJson(Exception):
    """The line parses only with what strict JSON refuses; the message says what."""


class _NonFinite:
    """`NaN`, `Infinity` or `-Infinity` where a value stood: refused by the object holding it."""

    def __init__(self, literal: str) -> None:
        self.literal = literal


class _StrictJson:
    """A decoder keeping number spellings and refusing NaN, Infinity and members named twice."""

    def __init__(self) -> None:
        self.non_finite: list[str] = []
        self._decoder = json.JSONDecoder(
            parse_int=_Number,
            parse_float=_Number,
            parse_constant=self._constant,
            object_pairs_hook=self._object,
        )

    def _constant(self, literal: str) -> _NonFinite:
        self.non_finite.append(literal)
        return _NonFinite(literal)

    @staticmethod
    def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
        document = dict(pairs)
        if len(document) != len(pairs):
            names = [name for name, _ in pairs]
            twice = next(name for index, name in enumerate(names) if name in names[:index])
            raise _NotJson(f"member {shown(twice)} appears twice in one object")
        for name, value in pairs:
            if isinstance(value, _NonFinite):
                raise _NotJson(f"member {shown(name)} holds {value.literal}, which is not a JSON value")
        return document

    def decode(self, line: str) -> object:
        """The line's value; raises _NotJson with the reason it is not strict JSON."""
        self.non_finite.clear()
        try:
            document = self._decoder.decode(line)
        except json.JSONDecodeError as exc:
            raise _NotJson(f"{exc.msg} at column {exc.colno}") from None
        except RecursionError:
            raise _NotJson("nested deeper than the reader can follow") from None
        if self.non_finite:  # inside an array, where no object saw it
            raise _NotJson(f"{self.non_finite[0]} is not a JSON value")
        return document


def parse_jsonl(text: str, batch: SourceBatch) -> None:
    """Read a JSON lines export into `batch`; the members seen decide the shape (JSON has no header).

    Past decoding, the time of a large load went into looking at every value and keeping every line on
    its own. Only a line that may hold a problem in a contract member is looked at value by value
    (`_may_hold_problem`); the lines kept become one block, a member's values one Arrow array. What is
    kept, quarantined and why is the same, which tests/sources/test_json_blocks.py checks on random texts.
    """
    decoder = _StrictJson()
    seen: dict[str, object] = {}  # member names in order of first appearance
    rows: list[Sequence[object]] = []
    line_numbers: list[int] = []
    lines: list[str] = []
    for line_number, line in text_lines(text):
        if not line.strip(" \t"):  # JSON's own blanks only: str.strip() would drop a line of U+00A0
            continue
        document = _document(decoder, line)
        if isinstance(document, str):
            batch.quarantine(line_number, line, document)
            continue
        seen.update(document)
        values: Sequence[object] | str
        if _may_hold_problem(line):
            values = _contract_values(document, batch)
        else:
            values = list(map(document.get, batch.columns))
        if isinstance(values, str):
            batch.quarantine(line_number, line, values)
            continue
        rows.append(values)
        line_numbers.append(line_number)
        lines.append(line)
    members = zip(*rows, strict=True) if rows else ([] for _ in batch.columns)
    records = {name: _member_texts(values) for name, values in zip(batch.columns, members, strict=True)}
    numbers, raw = pa.array(line_numbers, pa.int64()), pa.array(lines, pa.string())
    batch.keep_table(pa.table({**records, LINE_NUMBER: numbers, RAW_RECORD: raw}))
    if seen:
        missing = batch.compare_shape(seen)
        if missing:
            raise LandingFileError(f"{batch.origin}: required columns missing: {', '.join(missing)}")
        batch.added_columns = tuple(shown(name, limit=200) for name in batch.added_columns)


def _may_hold_problem(line: str) -> bool:
    """Whether a contract member of the line may hold a nested value, a lone surrogate or a text too big:
    without `[`, a second `{`, a surrogate (escaped or not) and a field's limit of bytes, none can."""
    return (
        "[" in line
        or line.count("{") > 1
        or len(line) * 4 > FIELD_LIMIT_BYTES
        # The search costs more than the rest: most lines are ASCII without an escape, and skip it.
        or (("\\u" in line or not line.isascii()) and bool(_SURROGATE.search(line)))
    )


def _member_texts(values: Sequence[object]) -> pa.Array:
    """A member's values as `_value_text` spells them: Arrow builds texts and absent values itself, so only
    a member holding a boolean is spelled value by value."""
    if bool in set(map(type, values)):
        values = [_value_text(value) for value in values]
    text = pa.array(values, pa.string())
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _document(decoder: _StrictJson, line: str) -> dict[str, object] | str:
    """The line's object, or why it is none (too long, not strict JSON, not an object)."""
    oversize = too_big(line, RECORD_LIMIT_BYTES, "record")
    if oversize:
        return f"record too long: {oversize}"
    try:
        document = decoder.decode(line)
    except _NotJson as exc:
        return f"invalid JSON: {exc}"
    return document if isinstance(document, dict) else "JSON line is not an object"


def _contract_values(document: dict[str, object], batch: SourceBatch) -> list[str | None] | str:
    """The contract members' values as text, or why they cannot load (members the contract does not know
    are not looked at: whatever they hold, they are ignored)."""
    nested = [name for name in batch.columns if isinstance(document.get(name), dict | list)]
    if nested:
        return f"fields hold nested values instead of scalars: {', '.join(nested)}"
    values = [_value_text(document.get(name)) for name in batch.columns]
    problems = "; ".join(_value_problems(batch.columns, values))
    return problems or values


def _value_text(value: object) -> str | None:
    """A scalar member as text as sent: numbers in their spelling, `true` / `false`; null and '' absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value_problems(names: dict[str, list[str | None]], values: list[str | None]) -> Iterator[str]:
    for name, value in zip(names, values, strict=True):
        if value is None:
            continue
        problem = lone_surrogate(value) or too_big(value)
        if problem:
            yield f"field {name}: {problem}"
