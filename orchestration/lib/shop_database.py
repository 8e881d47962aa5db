"""The shop's operational PostgreSQL database as a Dagster resource; its URL only ever comes from the environment."""

from __future__ import annotations

from datetime import date

import dagster as dg

from orchestration.lib.settings import LATE_DATA_LOOKBACK_DAYS
from sources.batches import SourceBatch
from sources.contracts import SourceContract
from sources.shop_database import DEFAULT_TIMEZONE, RetryPolicy, extract_window


class ShopDatabaseResource(dg.ConfigurableResource):
    """Where and how to extract sales: `url` is bound to `EnvVar("CLIENTELE_SHOP_DATABASE_URL")`.

    `lookback_days` re-extracts that many days before each window, for rows committed after their day
    was extracted (the facts' `FactsConfig.lookback_days` must be at least as long, or they never see
    those rows; both default to LATE_DATA_LOOKBACK_DAYS); the retry settings ride out a database restart before a run fails.
    """

    url: str
    timezone: str = DEFAULT_TIMEZONE
    lookback_days: int = LATE_DATA_LOOKBACK_DAYS
    connect_attempts: int = 5
    retry_base_seconds: float = 2.0

    def read_window(
        self, contract: SourceContract, start: date, end: date, initial: bool = False
    ) -> list[SourceBatch]:
        """Batches of the local days [start, end); `initial` also takes all rows updated before `start`."""
        retry = RetryPolicy(attempts=self.connect_attempts, base_delay_seconds=self.retry_base_seconds)
        return extract_window(self.url, contract, start, end, self.timezone, initial, retry)
