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
from collections.abc import Iterator

from sources.batches import SourceBatch
from sources.landing_text import (
    RECORD_LIMIT_BYTES,
    LandingFileError,
    lone_surrogate,
    shown,
    text_lines,
    too_big,
)


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
    """Read a JSON lines export into `batch`; the members seen decide the shape (JSON has no header)."""
    decoder = _StrictJson()
    seen: dict[str, None] = {}  # member names in order of first appearance
    for line_number, line in text_lines(text):
        if not line.strip(" \t"):  # JSON's own blanks only: str.strip() would drop a line of U+00A0
            continue
        document = _document(decoder, line)
        if isinstance(document, str):
            batch.quarantine(line_number, line, document)
            continue
        seen.update(dict.fromkeys(document))
        values = _contract_values(document, batch)
        if isinstance(values, str):
            batch.quarantine(line_number, line, values)
        else:
            batch.keep(line_number, line, values)
    if seen:
        missing = batch.compare_shape(seen)
        if missing:
            raise LandingFileError(f"{batch.origin}: required columns missing: {', '.join(missing)}")
        batch.added_columns = tuple(shown(name, limit=200) for name in batch.added_columns)


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
