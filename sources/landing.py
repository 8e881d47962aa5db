"""Reading landing files (CSV, JSON lines, Parquet) into text records and quarantined rows, keeping locators.

`read_landing_file` is the one entry point; each format has its module (`sources.landing_csv`,
`sources.landing_json`, `sources.landing_parquet`) and they share `sources.landing_text` (decoding, line
ends, size limits). This layer only knows file structure: a record it cannot read is quarantined here
with its line (or Parquet row) number, raw text and a reason naming the field where there is one.
Values become text as sent (CSV fields, JSON strings and number spellings) or in one canonical spelling
for Parquet's typed values, so typing them happens in one strict place, the warehouse
(`sources.raw_tables`). Nothing read is dropped: every record ends up in the batch's records or in its
`quarantined` list (`sources.batches`), and a file that cannot be read as a whole raises
LandingFileError naming it before anything is written.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date
from pathlib import Path

from sources.batches import SourceBatch
from sources.contracts import FileFormat, SourceContract
from sources.landing_csv import parse_csv
from sources.landing_json import parse_jsonl
from sources.landing_parquet import parse_parquet
from sources.landing_text import LandingFileError, LandingReaderFault, read_text

__all__ = ["LandingFileError", "changed_days", "export_day_fingerprints", "read_landing_file"]

_log = logging.getLogger(__name__)


def read_landing_file(contract: SourceContract, path: Path, export_date: date) -> SourceBatch:
    """Parse one export file of `contract`; raise LandingFileError when the file as a whole is unusable."""
    if not path.is_file():
        raise LandingFileError(f"{contract.raw_table}: no export for {export_date} (expected file {path})")
    batch = SourceBatch(contract, str(path), export_date, columns={c: [] for c in contract.column_names})
    try:
        _parse(path, batch)
    except LandingFileError:
        raise
    # Input nobody foresaw must still name its file; LandingReaderFault tells it is the reader's fault.
    except Exception as exc:
        raise LandingReaderFault(
            f"{path}: the reader failed ({type(exc).__name__}: {exc}); nothing was loaded from it"
        ) from exc
    for note in batch.notes:
        _log.warning("%s: %s", path, note)
    return batch


def _parse(path: Path, batch: SourceBatch) -> None:
    contract = batch.contract
    if contract.format is FileFormat.PARQUET:
        parse_parquet(path, batch)
        return
    landing_text = read_text(path, contract.encoding)
    batch.notes.extend(landing_text.notes)
    if contract.format is FileFormat.CSV:
        parse_csv(landing_text.text, batch)
    else:
        parse_jsonl(landing_text.text, batch)


def export_day_of(contract: SourceContract, landing_dir: Path, path: Path) -> date | None:
    """The export day `path` is the file of, or None when its name is not exactly `<YYYY-MM-DD>.<ext>`.

    `date.fromisoformat` alone also reads `20240105` and `2024-W01-5` as days: a file so named must not
    pass for that day's export, in the sensor or anywhere else.
    """
    try:
        day = date.fromisoformat(path.name.removesuffix(f".{contract.format.value}"))
    except ValueError:
        return None
    return day if contract.file_for(landing_dir, day) == path else None


def export_day_fingerprints(landing_dir: Path, contracts: tuple[SourceContract, ...]) -> dict[str, str]:
    """A short fingerprint per export day of the files present (name, size, modification time).

    Comparing two of these tells which days' exports arrived or changed, without reading any file.
    """
    entries: dict[str, list[str]] = {}
    for contract in contracts:
        folder = landing_dir / contract.system / contract.name
        if not folder.is_dir():
            continue
        for path in folder.glob(f"*.{contract.format.value}"):
            day = export_day_of(contract, landing_dir, path)
            if day is None:
                continue  # not an export file of this layout
            stat = path.stat()
            entries.setdefault(day.isoformat(), []).append(
                f"{contract.raw_table}:{stat.st_size}:{stat.st_mtime_ns}"
            )
    return {
        day: hashlib.sha256("|".join(sorted(parts)).encode()).hexdigest()[:16]
        for day, parts in entries.items()
    }


def changed_days(previous: dict[str, str], current: dict[str, str]) -> list[date]:
    """Export days whose files are new or changed since `previous`, in date order."""
    return sorted(date.fromisoformat(day) for day, print_ in current.items() if previous.get(day) != print_)
