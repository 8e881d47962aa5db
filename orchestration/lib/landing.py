"""The landing folder as a Dagster resource: where each source's daily export files are found."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg

from sources.batches import SourceBatch
from sources.contracts import SourceContract
from sources.landing import read_landing_file


class LandingResource(dg.ConfigurableResource):
    """A folder laid out as `<system>/<source>/<YYYY-MM-DD>.<ext>` (see docs/sources.md)."""

    path: str

    def read(self, contract: SourceContract, export_date: date) -> SourceBatch:
        return read_landing_file(contract, contract.file_for(Path(self.path), export_date), export_date)
