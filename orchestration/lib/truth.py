"""The demo generator's latent truth, when there is one, for measuring models against what really happened.

A real deployment has no truth folder; the models then report only their own validation metrics.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd

from sources.contracts import TruthFiles


class TruthResource(dg.ConfigurableResource):
    path: str

    def outcomes(self) -> pd.DataFrame | None:
        files = TruthFiles(Path(self.path))
        return pd.read_parquet(files.outcomes) if files.outcomes.is_file() else None

    def identities(self) -> pd.DataFrame | None:
        """source, source_id -> person_id for every identifier the generator wrote."""
        files = TruthFiles(Path(self.path))
        return pd.read_parquet(files.identities) if files.identities.is_file() else None

    def order_persons(self) -> pd.DataFrame | None:
        """order_id -> person_id for every order the generator wrote."""
        identities = self.identities()
        if identities is None:
            return None
        orders = identities[identities["source"] == "orders"]
        return orders.rename(columns={"source_id": "order_id"})[["order_id", "person_id"]]
