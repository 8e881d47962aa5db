"""The date a run scores at: chosen in the launchpad, or the day after the last loaded export day.

Features, segments, KPIs at the scoring date, both models and `bi.customer_360` are all as of this one
date, and each reads only what happened before it. A run for a past date therefore sees what a run on
that date saw (identity links found later excepted: a person is one customer in every scoring date).
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
from pydantic import Field

from orchestration.lib.warehouse import WarehouseResource
from sources.contracts import ORDERS
from sources.raw_tables import last_export_day


class ScoringResource(dg.ConfigurableResource):
    """Set `scoring_date` (YYYY-MM-DD) in the launchpad (resources.scoring.config.scoring_date) to score
    as of a past date; empty means the day after the last loaded export day of orders. `retrain` trains
    new models now instead of on the configured cadence."""

    scoring_date: str = Field(
        default="",
        description="The date features, segments, both models and bi.customer_360 are as of, YYYY-MM-DD; "
        "they use only what happened before it. Empty: the day after the last loaded export day.",
    )

    retrain: bool = Field(
        default=False,
        description="Train new models in this run even when the last ones are more recent than "
        "models.retrain_every_days (a new model still replaces the champion only if it is better).",
    )

    def resolve(self, warehouse: WarehouseResource) -> date:
        """The run's scoring date; the same for every step of the run that asks."""
        if self.scoring_date.strip():
            return parse_scoring_date(self.scoring_date)
        with warehouse.connect(read_only=True) as con:
            last_day = last_export_day(con, ORDERS)
        if last_day is None:
            raise dg.Failure(
                "No export day of orders has been loaded yet, so there is no default scoring date: "
                "materialize raw/sales_orders first, or set resources.scoring.config.scoring_date."
            )
        return last_day + timedelta(days=1)


def parse_scoring_date(text: str) -> date:
    """A launchpad scoring date, or a Failure that says what is expected."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise dg.Failure(
            f"resources.scoring.config.scoring_date must be a date as YYYY-MM-DD, got {text!r}"
        ) from None
