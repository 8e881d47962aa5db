"""The shop's operational PostgreSQL database as a Dagster resource; its URL only ever comes from the environment."""

from __future__ import annotations

from datetime import date

import dagster as dg

from sources.batches import SourceBatch
from sources.contracts import SourceContract
from sources.shop_database import RetryPolicy, extract_window


class ShopDatabaseResource(dg.ConfigurableResource):
    """Where and how to extract sales: `url` is bound to `EnvVar("CLIENTELE_SHOP_DATABASE_URL")`.

    `timezone` and `lookback_days` are the deployment's (`calendar.timezone`,
    `ingestion.late_data_lookback_days`): a partition is a local day, and each run re-extracts the
    lookback's days before its window for rows committed after their day was extracted (the facts re-read
    the same days). The retry settings ride out a database restart before a run fails.
    """

    url: str
    timezone: str
    lookback_days: int
    connect_attempts: int = 5
    retry_base_seconds: float = 2.0

    def read_window(
        self, contract: SourceContract, start: date, end: date, initial: bool = False
    ) -> list[SourceBatch]:
        """Batches of the local days [start, end); `initial` also takes all rows updated before `start`."""
        retry = RetryPolicy(attempts=self.connect_attempts, base_delay_seconds=self.retry_base_seconds)
        return extract_window(self.url, contract, start, end, self.timezone, initial, retry)
