"""The source docs cannot quietly drift: sources.md describes every contract, reliability.md real tests."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sources.contracts import ALL_SOURCES, FileFormat

REPO_ROOT = Path(__file__).resolve().parents[2]


def _section(text: str, heading: str) -> str:
    parts = text.split(heading, 1)
    assert len(parts) == 2, f"no section {heading}"
    return parts[1].split("### ", 1)[0]


def test_every_source_and_column_is_documented() -> None:
    text = (REPO_ROOT / "docs" / "sources.md").read_text()
    for contract in ALL_SOURCES:
        body = _section(text, f"### `{contract.system}/{contract.name}`")
        for column in contract.columns:
            required = "yes" if column.required else ""
            row = f"| `{column.name}` | {column.type} | {required} |"
            assert row in body, f"{contract.raw_table}.{column.name}: no row starting {row!r}"


def test_every_source_states_its_format_and_dialect() -> None:
    text = (REPO_ROOT / "docs" / "sources.md").read_text()
    for contract in ALL_SOURCES:
        body = _section(text, f"### `{contract.system}/{contract.name}`")
        expected = [f"Format: `{contract.format.value}`"]
        if contract.format is not FileFormat.PARQUET:
            expected.append(f"encoding `{contract.encoding}`")
        if contract.format is FileFormat.CSV:
            expected += [f"delimiter `{contract.delimiter}`", f"quote `{contract.quote_char}`"]
        for phrase in expected:
            assert phrase in body, f"{contract.raw_table}: {phrase}"


def test_the_catalogue_names_tests_that_exist() -> None:
    # A catalogue row is only as good as its test: every one it names must exist.
    text = (REPO_ROOT / "docs" / "reliability.md").read_text()
    references = set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text))
    assert len(references) >= 22
    for path, name in sorted(references):
        tree = ast.parse((REPO_ROOT / path).read_text())
        names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert name in names, f"{path}::{name}"
