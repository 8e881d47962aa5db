"""A JSON lines export read as one block is read exactly as value by value.

`sources.landing_json` looks at a line's contract members value by value only when the line may hold a
problem there (`_may_hold_problem`: a nested value, a lone surrogate, a text too big) and spells every
other line's values a member at a time with Arrow. Skipping is only allowed to be faster: on random texts
(members named twice, NaN and Infinity, nested values, numbers like 1.10 and 4.0E+3, escapes and
surrogates, empty and non-ASCII texts, booleans and nulls, blank lines and lines that are no object,
unknown members, every line end) reading every line value by value keeps the same records with the same
values, line numbers and raw text, quarantines the same lines for the same reasons, and fails the same
files with the same message.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from landing_fixture import SAME_READS, read_outcome

import sources.landing_json as landing_json
from sources.batches import SourceBatch
from sources.contracts import CONTACTS
from sources.landing_text import FIELD_LIMIT_BYTES, LandingFileError

DAY = date(2024, 3, 1)

_blank = st.sampled_from(["", " ", "\t"])
_characters = st.one_of(
    st.sampled_from(["a", "1", " ", "é", "ß", "😀", '"', "\\", "/", "\n", "\t", "\x00", "\x7f", "\u2028"]),
    st.characters(exclude_categories=("Cs",)),
)
# Values a line loads with, and values that cost it (or only look as if they might).
_scalar = st.one_of(
    st.builds(json.dumps, st.text(_characters, max_size=5), ensure_ascii=st.booleans()),
    st.sampled_from(["0", "-0", "1.10", "4.0E+3", "1e5", "-12", "1E-7", "12345678901234567890123"]),
    st.sampled_from(['""', "true", "false", "null", '"\\uD83D\\uDE00"', '"a\\\\ud83d"', '"\\/"']),
)
_odd = st.one_of(
    st.sampled_from(["NaN", "-Infinity", "01", "1."]),
    st.sampled_from(['"\\ud83d"', '"\\udc00x"', '"\\uDFFF"', '"x\\udbff"', '"\\udfff"']),
    st.sampled_from(["{}", '{"a": 1}', '{"a": {"b": 1, "b": 2}}', "[]", "[1, 2]", "[NaN]", '[{"a": []}]']),
)
_value = st.integers(0, 9).flatmap(lambda pick: _odd if pick == 0 else _scalar)
# Only a contract member may hold a surrogate as such (as no decoded text does): it costs the line, so no
# kept raw text holds one, which Arrow could not store.
_contract_value = st.integers(0, 19).flatmap(lambda pick: st.just('"x\ud83d"') if pick == 0 else _value)
_TOO_BIG = '{"contact_id": "C1", "email": "' + "é" * (FIELD_LIMIT_BYTES // 2 + 1) + '"}'
_UNKNOWN = ["note", "zé", "tags"]


@st.composite
def _object(draw: st.DrawFn) -> str:
    """An object's text: mostly the contract's members, some unknown or twice, in any order and spacing."""
    names = [
        name for name in CONTACTS.column_names if name in CONTACTS.required_columns or draw(st.booleans())
    ]
    if not draw(st.integers(0, 9)):
        names.remove(draw(st.sampled_from(names)))
    names += draw(st.lists(st.sampled_from(_UNKNOWN), max_size=2, unique=True))
    if not draw(st.integers(0, 9)):
        names.append(draw(st.sampled_from(names)))
    space = st.sampled_from(["", " ", "\t"])
    members = [
        f"{json.dumps(name)}{draw(space)}:{draw(space)}"
        f"{draw(_value if name in _UNKNOWN else _contract_value)}"
        for name in draw(st.permutations(names))
    ]
    return draw(space) + "{" + ",".join(members) + "}" + draw(space)


_line = st.one_of(
    _object(),
    _object(),
    _object(),
    _blank,
    st.sampled_from(
        ["not json", "1", '"x"', "[1]", "null", "{", "{} {}", "\u00a0", '{"a": 1}, {"b": 2}', _TOO_BIG]
    ),
)


@st.composite
def jsonl_texts(draw: st.DrawFn) -> str:
    ends = st.sampled_from(["\n", "\n", "\r\n", "\r"])
    lines = draw(st.lists(_line, max_size=10))
    return "".join(line + draw(ends) for line in lines) + draw(st.sampled_from(["", '{"contact_id": "C9"}']))


def _read(text: str, skipping: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[object, ...] | str:
    batch = SourceBatch(CONTACTS, "contacts.jsonl", DAY, columns={c: [] for c in CONTACTS.column_names})
    with monkeypatch.context() as patch:
        if not skipping:
            patch.setattr(landing_json, "_may_hold_problem", lambda line: True)
        try:
            landing_json.parse_jsonl(text, batch)
        except LandingFileError as error:
            return str(error)
    return read_outcome(batch, in_line_order=False)


@SAME_READS
@given(text=jsonl_texts())
def test_texts_read_the_same_skipping_lines_without_problems_or_not(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _read(text, True, monkeypatch) == _read(text, False, monkeypatch)


def test_lines_are_kept_as_one_block_with_values_as_sent() -> None:
    batch = SourceBatch(CONTACTS, "contacts.jsonl", DAY, columns={c: [] for c in CONTACTS.column_names})
    text = (
        '{"contact_id": "C1", "email": "", "region": 4.0E+3, "marketing_consent": true, "created_at": 1.10, '
        '"updated_at": null}\n'
        '{"contact_id": "C2", "contact_id": "C3"}\n'
        '{"contact_id": "C4", "marketing_consent": null, "age_band": "\\ud83d", "x": [1]}\n'
    )
    landing_json.parse_jsonl(text, batch)
    assert not batch.line_numbers and len(batch.tables) == 1
    [record] = batch.records().to_pylist()
    assert (record["email"], record["region"], record["marketing_consent"], record["created_at"]) == (
        None,
        "4.0E+3",
        "true",
        "1.10",
    )
    assert [(q.line_number, q.reason) for q in batch.quarantined] == [
        (2, "invalid JSON: member contact_id appears twice in one object"),
        (3, "field age_band: holds \\ud83d, half of a character (a lone surrogate: an emoji cut in half?)"),
    ]
