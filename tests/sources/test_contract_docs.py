"""docs/sources.md describes every source and column of the contracts, so it cannot quietly drift."""

from __future__ import annotations

from pathlib import Path

from sources.contracts import ALL_SOURCES

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_source_and_column_is_documented() -> None:
    text = (REPO_ROOT / "docs" / "sources.md").read_text()
    for contract in ALL_SOURCES:
        section = text.split(f"### `{contract.system}/{contract.name}`", 1)
        assert len(section) == 2, f"no section for {contract.system}/{contract.name}"
        body = section[1].split("### ", 1)[0]
        for column in contract.columns:
            assert f"| `{column.name}` | {column.type} |" in body, f"{contract.raw_table}.{column.name}"
