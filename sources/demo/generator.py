"""One demo run, phase by phase: simulate people and their behaviour, land every source, write the truth.

Each phase draws from its own random stream derived from the seed and the phase's name, so a run is
reproducible byte for byte and changing one phase leaves the others' draws alone.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sources.contracts import (
    ALL_SOURCES,
    CONTACTS,
    CUSTOMER_ACCOUNTS,
    LOYALTY_MEMBERS,
    MARKETING_EVENTS,
    ORDER_LINES,
    ORDERS,
    REFUNDS,
    SUPPORT_TICKETS,
    FileFormat,
    SourceContract,
)
from sources.demo import records
from sources.demo.behaviour import Catalog, Orders, Refunds, build_catalog, simulate_orders, simulate_refunds
from sources.demo.config import demo_period
from sources.demo.crm import MarketingEvents, Tickets, simulate_marketing, simulate_tickets
from sources.demo.identities import Identities, assign_identities
from sources.demo.mess import LateOrders, pick_duplicates, plan_malformed, plan_order_exports
from sources.demo.population import Population, simulate_population
from sources.demo.timeline import Timeline
from sources.demo.truth import TruthFiles, write_summary, write_truth
from sources.demo.writers import (
    LANDING_DIR,
    TRUTH_DIR,
    render_lines,
    staged_output,
    write_parquet_source,
    write_source,
)

DEMO_START, DEMO_END = demo_period()


@dataclass(frozen=True)
class DemoConfig:
    """How much to simulate; the export period defaults to the demo configuration's calendar."""

    customers: int = 5_000
    seed: int = 7
    start: date = DEMO_START
    end: date = DEMO_END

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError("need at least one customer")


def phase_rng(seed: int, phase: str) -> np.random.Generator:
    """The random stream of one phase: independent of other phases and of the order they run in."""
    return np.random.default_rng([seed, zlib.crc32(phase.encode())])


class _Progress:
    """Prints one line per phase with its counts and the seconds it took."""

    def __init__(self, report: Callable[[str], None]) -> None:
        self._report = report
        self._started = time.perf_counter()

    def __call__(self, message: str) -> None:
        now = time.perf_counter()
        self._report(f"[demo] {message} ({now - self._started:.1f}s)")
        self._started = now


@dataclass(frozen=True)
class LandedSource:
    """What was written for one source: rows (with copies and damaged ones) and the mess among them."""

    rows: int
    updates: int  # rows re-exporting a record that an earlier row already carried
    update_reasons: dict[str, int]
    duplicates: int
    malformed: dict[str, int]


def land(rows: records.Rows, landing_dir: Path, timeline: Timeline, seed: int) -> LandedSource:
    """Write one source's daily files: rows in export order, a few written twice, a few damaged."""
    name = rows.contract.raw_table
    duplicated = pick_duplicates(rows.size, phase_rng(seed, f"duplicates {name}"))
    order = rows.export_order()
    sequence = np.repeat(order, 1 + duplicated[order])  # a copy right after its original
    malformed = plan_malformed(rows.contract, duplicated[sequence], phase_rng(seed, f"malformed {name}"))

    def columns(first: int, last: int) -> records.Columns:
        return malformed.damage_fields(rows.render(sequence[first:last]), first)

    def lines(first: int, last: int) -> pa.Array:
        return malformed.damage_lines(render_lines(rows.contract, columns(first, last)), first)

    if rows.contract.format is FileFormat.PARQUET:
        write_parquet_source(rows.contract, landing_dir, timeline, rows.export_day[sequence], columns)
    else:
        write_source(rows.contract, landing_dir, timeline, rows.export_day[sequence], lines)
    return LandedSource(
        rows=int(sequence.size),
        updates=rows.size - rows.records(),
        update_reasons=rows.update_reasons,
        duplicates=int(duplicated.sum()),
        malformed=malformed.counts(),
    )


@dataclass(frozen=True)
class Simulation:
    """Everything simulated for one run, before any file is written."""

    timeline: Timeline
    population: Population
    identities: Identities
    catalog: Catalog
    orders: Orders
    refunds: Refunds
    tickets: Tickets
    marketing: MarketingEvents


def simulate(config: DemoConfig, progress: Callable[[str], None]) -> Simulation:
    """People, their identities, orders, refunds, tickets and marketing events, reporting each phase."""
    timeline = Timeline(config.start, config.end)

    def rng(phase: str) -> np.random.Generator:
        return phase_rng(config.seed, phase)

    population = simulate_population(config.customers, timeline, rng("population"))
    progress(
        f"population: {population.size:,} people, {int(population.existing.sum()):,} customers before "
        f"{timeline.start}, {int((population.dropout > timeline.n_days).sum()):,} alive at {timeline.end}"
    )
    identities = assign_identities(population, timeline, rng("identities"))
    progress(
        f"identities: {int((identities.account_number >= 0).sum()):,} web accounts, "
        f"{identities.contacts.person.size:,} CRM contacts ({int(identities.contacts.duplicate.sum()):,} "
        f"duplicates), {int((identities.card_number >= 0).sum()):,} loyalty cards"
    )
    catalog = build_catalog(rng("catalog"))
    orders = simulate_orders(population, identities, catalog, timeline, rng("orders"))
    refunds = simulate_refunds(orders, timeline, rng("refunds"))
    progress(
        f"orders: {orders.exported:,} in the export period, {orders.size - orders.exported:,} in the hidden "
        f"future, {int(orders.line_count[: orders.exported].sum()):,} exported lines, {refunds.order.size:,} refunds"
    )
    tickets = simulate_tickets(population, identities, timeline, rng("tickets"))
    marketing = simulate_marketing(population, identities, timeline, rng("marketing"))
    progress(f"crm: {tickets.opened.size:,} support tickets, {marketing.seconds.size:,} marketing events")
    return Simulation(timeline, population, identities, catalog, orders, refunds, tickets, marketing)


def _summary(
    config: DemoConfig,
    sim: Simulation,
    landed: dict[str, LandedSource],
    late: LateOrders,
    tally: records.SpellingTally,
    truth_rows: dict[str, int],
) -> dict[str, Any]:
    """Counts of people, orders, rows per source and every kind of injected mess."""
    timeline, population, identities, orders = sim.timeline, sim.population, sim.identities, sim.orders
    exported = np.arange(orders.exported)
    contacts = identities.contacts
    return {
        "seed": config.seed,
        "customers": config.customers,
        "start": timeline.start.isoformat(),
        "end": timeline.end.isoformat(),
        "truth_horizon_end": timeline.horizon_end.isoformat(),
        "export_days": timeline.n_days,
        "persons": {
            "total": population.size,
            "customers_before_start": int(population.existing.sum()),
            "acquired_in_period": int((~population.existing).sum()),
            "alive_at_end": int((population.dropout > timeline.n_days).sum()),
            "with_web_account": int((identities.account_number >= 0).sum()),
            "with_crm_contact": int(population.has_contact.sum()),
            "with_loyalty_card": int((identities.card_number >= 0).sum()),
        },
        "orders": {
            "in_landing": orders.exported,
            "hidden_future": orders.size - orders.exported,
            "web": int((~orders.in_store[exported]).sum()),
            "store": int(orders.in_store[exported].sum()),
            "web_by_account": int(orders.with_account[exported].sum()),
            "web_as_guest": int(orders.guest[exported].sum()),
            "store_with_loyalty_card": int(orders.with_card[exported].sum()),
            "store_anonymous": int((orders.in_store & ~orders.with_card)[exported].sum()),
            "lines_in_landing": int(orders.line_count[exported].sum()),
            "refunds": int(sim.refunds.order.size),
        },
        "rows_per_source": {name: source.rows for name, source in landed.items()},
        "files_per_source": {name: timeline.n_days for name in landed},
        "truth_rows": truth_rows,
        "mess": {
            "late_records": {ORDERS.raw_table: late.orders, ORDER_LINES.raw_table: late.lines},
            "updates": {name: source.updates for name, source in landed.items()},
            "update_reasons": {name: source.update_reasons for name, source in landed.items()},
            "exact_duplicates": {name: source.duplicates for name, source in landed.items()},
            "malformed": {name: source.malformed for name, source in landed.items()},
            "malformed_total": sum(sum(source.malformed.values()) for source in landed.values()),
            "duplicate_contacts": int((contacts.duplicate & (contacts.created < timeline.end_seconds)).sum()),
            "email_spellings": dict(sorted(tally.email.items())),
            "phone_formats": dict(sorted(tally.phone.items())),
        },
    }


def generate(config: DemoConfig, out_dir: Path, report: Callable[[str], None] = print) -> dict[str, Any]:
    """Write landing files and truth for `config` into `out_dir`, replacing a previous run; returns the summary."""
    progress = _Progress(report)
    sim = simulate(config, progress)
    timeline = sim.timeline

    def rng(phase: str) -> np.random.Generator:
        return phase_rng(config.seed, phase)

    exports, late = plan_order_exports(sim.orders, timeline, rng("order exports"))
    tally = records.SpellingTally()
    builders: dict[SourceContract, Callable[[], records.Rows]] = {
        CUSTOMER_ACCOUNTS: lambda: records.account_rows(
            sim.population, sim.identities, timeline, rng("account rows"), tally
        ),
        ORDERS: lambda: records.order_rows(
            sim.orders, sim.identities, exports, timeline, rng("order rows"), tally
        ),
        ORDER_LINES: lambda: records.order_line_rows(sim.orders, sim.catalog, exports, timeline),
        REFUNDS: lambda: records.refund_rows(sim.refunds, timeline),
        CONTACTS: lambda: records.contact_rows(
            sim.population, sim.identities, sim.marketing, timeline, rng("contact rows"), tally
        ),
        LOYALTY_MEMBERS: lambda: records.loyalty_rows(sim.orders, sim.identities, sim.population, timeline),
        SUPPORT_TICKETS: lambda: records.ticket_rows(sim.tickets, timeline),
        MARKETING_EVENTS: lambda: records.marketing_rows(sim.marketing, timeline),
    }
    landed: dict[str, LandedSource] = {}
    with staged_output(out_dir) as staging:
        for contract in ALL_SOURCES:
            source = landed[contract.raw_table] = land(
                builders[contract](), staging / LANDING_DIR, timeline, config.seed
            )
            progress(
                f"landing {contract.raw_table}: {source.rows:,} rows in {timeline.n_days:,} daily files "
                f"({source.updates:,} updates, {source.duplicates:,} duplicates, "
                f"{sum(source.malformed.values()):,} malformed)"
            )
        truth_files = TruthFiles(staging / TRUTH_DIR)
        truth_rows = write_truth(truth_files, sim.population, sim.identities, sim.orders, timeline)
        summary = _summary(config, sim, landed, late, tally, truth_rows)
        write_summary(truth_files, summary)
        progress(f"truth: {', '.join(f'{k} {v:,}' for k, v in truth_rows.items())} rows, summary.json")
    return summary
