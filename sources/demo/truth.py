"""The latent truth beside the landing folder: who people really are, which records are theirs, and what
they really did after the scoring date (the period end), so models can be measured against reality.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sources.demo import text
from sources.demo.behaviour import Orders
from sources.demo.identities import Identities
from sources.demo.population import (
    ACQUISITION_CHANNELS,
    AGE_BANDS,
    EMAIL_ENGAGEMENT,
    LOYALTY_TIERS,
    REGIONS,
    Population,
)
from sources.demo.timeline import SECONDS_PER_DAY, Timeline, to_seconds

SUMMARY_FILE = "summary.json"
OUTCOME_WINDOWS_DAYS = (90, 365)


@dataclass(frozen=True)
class TruthFiles:
    """Latent truth the demo generator writes beside, never inside, the landing folder.

    `orders` holds every simulated purchase, the hidden year after the export period included, so a
    model can be measured at any scoring date and horizon the truth covers (`horizon_end` in the
    summary); `outcomes` summarises the year after the period's end per person.
    """

    root: Path
    persons: Path = field(init=False)
    identities: Path = field(init=False)
    outcomes: Path = field(init=False)
    orders: Path = field(init=False)
    summary: Path = field(init=False)

    def __post_init__(self) -> None:
        for name in ("persons", "identities", "outcomes", "orders"):
            object.__setattr__(self, name, self.root / f"{name}.parquet")
        object.__setattr__(self, "summary", self.root / SUMMARY_FILE)


def _strings(values: pa.Array) -> pa.Array:
    return values.cast(pa.string())


def _person_ids(person: np.ndarray) -> pa.Array:
    return _strings(text.ids("P", person + 1, 7))


def _timestamps(days: np.ndarray, timeline: Timeline) -> pa.Array:
    return pa.array(to_seconds(days) + timeline.epoch_seconds, type=pa.timestamp("s"))


def persons_table(population: Population, timeline: Timeline) -> pa.Table:
    """One row per person: acquisition, dropout, latent rates and the attributes that shaped them."""
    return pa.table(
        {
            "person_id": _person_ids(np.arange(population.size)),
            "acquired_at": _timestamps(population.acquired, timeline),
            "dropout_at": _timestamps(population.dropout, timeline),
            "purchase_rate_per_day": population.purchase_rate,
            "dropout_rate_per_day": population.dropout_rate,
            "mean_order_value": population.mean_order_value,
            "region": _strings(text.labels(REGIONS, population.region)),
            "age_band": _strings(text.labels(AGE_BANDS, population.age_band)),
            "acquisition_channel": _strings(
                text.labels(ACQUISITION_CHANNELS, population.acquisition_channel)
            ),
            "loyalty_tier": _strings(text.labels(LOYALTY_TIERS, population.loyalty_tier)),
            "marketing_consent": population.marketing_consent,
            "email_engagement": _strings(text.labels(EMAIL_ENGAGEMENT, population.email_engagement)),
            "complaint_count": population.complaints.astype(np.int32),
            "customer_before_start": population.existing,
        }
    )


def identities_table(identities: Identities, orders: Orders, timeline: Timeline) -> pa.Table:
    """source, source_id, person_id for every account, contact, card and order in the landing files."""
    end = timeline.end_seconds
    accounts = np.flatnonzero(identities.account_number >= 0)
    contacts = np.flatnonzero(identities.contacts.created < end)
    cards = np.flatnonzero(identities.card_enrolled < end)
    exported = np.arange(orders.exported)
    parts = (
        ("customer_accounts", text.ids("A", identities.account_number[accounts] + 1, 6), accounts),
        ("contacts", text.ids("C", contacts + 1, 6), identities.contacts.person[contacts]),
        ("loyalty_members", text.ids("L", identities.card_number[cards] + 1, 8), cards),
        ("orders", text.ids("O", exported + 1, 9), orders.person[exported]),
    )
    return pa.table(
        {
            "source": _strings(
                pa.concat_arrays([text.constant(source, len(ids)) for source, ids, _ in parts])
            ),
            "source_id": _strings(pa.concat_arrays([ids for _, ids, _ in parts])),
            "person_id": _person_ids(np.concatenate([person for _, _, person in parts])),
        }
    )


def outcomes_table(population: Population, orders: Orders, timeline: Timeline) -> pa.Table:
    """Per person at the scoring date (= end): alive or not, what they really bought next, what was expected.

    Expected purchases in the next 365 days are E[N | alive] * P(alive at end | λ, μ, time since the
    window opened) = λ/μ (1 - e^(-365μ)) * e^(-μ t); expected revenue multiplies by the mean order value.
    """
    n = population.size
    future = np.arange(orders.exported, orders.size)
    after_end = orders.seconds[future] - timeline.end_seconds
    columns: dict[str, Any] = {
        "person_id": _person_ids(np.arange(n)),
        "alive_at_end": population.dropout > timeline.n_days,
    }
    for days in OUTCOME_WINDOWS_DAYS:
        inside = future[after_end < days * SECONDS_PER_DAY]
        columns[f"purchases_next_{days}d"] = np.bincount(orders.person[inside], minlength=n).astype(np.int32)
        revenue = np.bincount(orders.person[inside], weights=orders.total_cents[inside], minlength=n)
        columns[f"revenue_next_{days}d"] = np.round(revenue) / 100
    rate, dropout = population.purchase_rate, population.dropout_rate
    observed_days = timeline.n_days - np.maximum(population.acquired, 0.0)
    alive_probability = np.exp(-dropout * observed_days)
    horizon = OUTCOME_WINDOWS_DAYS[-1]
    expected = rate / dropout * (1 - np.exp(-dropout * horizon)) * alive_probability
    columns[f"expected_purchases_next_{horizon}d"] = expected
    columns[f"expected_revenue_next_{horizon}d"] = expected * population.mean_order_value
    return pa.table(columns)


def orders_table(orders: Orders, timeline: Timeline) -> pa.Table:
    """Every simulated purchase up to the truth horizon: person, time and total, exported or hidden."""
    return pa.table(
        {
            "person_id": _person_ids(orders.person),
            "ordered_at": pa.array(orders.seconds + timeline.epoch_seconds, type=pa.timestamp("s")),
            "total": np.round(orders.total_cents) / 100,
        }
    )


def write_truth(
    files: TruthFiles, population: Population, identities: Identities, orders: Orders, timeline: Timeline
) -> dict[str, int]:
    """Write persons, identities, outcomes and orders; returns their row counts."""
    files.root.mkdir(parents=True, exist_ok=True)
    tables = {
        files.persons: persons_table(population, timeline),
        files.identities: identities_table(identities, orders, timeline),
        files.outcomes: outcomes_table(population, orders, timeline),
        files.orders: orders_table(orders, timeline),
    }
    for path, table in tables.items():
        pq.write_table(table, path)
    return {path.stem: table.num_rows for path, table in tables.items()}


def write_summary(files: TruthFiles, summary: dict[str, Any]) -> Path:
    path = files.summary
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return path
