"""Landing rows of every source: one row per record version, with its export day and its contract text.

A record is exported on the day it is created or changed (records older than the period come in the
first day's initial load) and carries its full state each time. A source's rows are numeric until
written: `Rows` holds, per row, the record it is a version of, the version time and the export day,
and renders the contract columns as strings (null = absent) for any selection of rows, so the writer
can render one chunk of days at a time. How each system spells a person's e-mail and phone is drawn
here, once per record (never per rendering), and tallied.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from sources.contracts import (
    CONTACTS,
    CUSTOMER_ACCOUNTS,
    LOYALTY_MEMBERS,
    MARKETING_EVENTS,
    ORDER_LINES,
    ORDERS,
    REFUNDS,
    SUPPORT_TICKETS,
    SourceContract,
)
from sources.demo import text
from sources.demo.behaviour import CATEGORIES, REFUND_REASONS, Catalog, Orders, Refunds
from sources.demo.config import demo_config, vocabulary
from sources.demo.crm import MARKETING_EVENT_TYPES, TICKET_CATEGORIES, MarketingEvents, Tickets
from sources.demo.identities import (
    EMAIL_SPELLING_SHARES,
    EMAIL_SPELLINGS,
    NEVER,
    PHONE_FORMAT_SHARES,
    PHONE_FORMATS,
    Identities,
)
from sources.demo.population import ACQUISITION_CHANNELS, AGE_BANDS, LOYALTY_TIERS, REGIONS, Population
from sources.demo.timeline import Timeline, export_day, to_seconds

# The demo's web shop and stores, in `in_store` order (0 = web), and its currency: its configuration's.
ORDER_CHANNELS = vocabulary("channels")
CURRENCY = demo_config().currency.default
TICKET_STATUSES = ("open", "closed")
CONTACT_EMAIL_SHARE = 0.9
CONTACT_PHONE_SHARE = 0.7  # of people with a phone
CONTACT_MISSING_SHARES = {"region": 0.04, "age_band": 0.06, "acquisition_channel": 0.03}
REGION_MOVE_SHARE = 0.03
WELCOME_POINTS = 100

Columns = dict[str, pa.Array]


@dataclass(frozen=True)
class Rows:
    """The rows of one source: per row the record it is a version of, the version time, the export day."""

    contract: SourceContract
    record: np.ndarray  # rows of the same record share this number
    version: np.ndarray  # seconds since start of the row's updated_at (or occurred_at)
    export_day: np.ndarray  # index of the export day the row is written on
    columns: Callable[[np.ndarray], Columns]  # contract columns of the selected rows, in that order
    update_reasons: dict[str, int]  # why records were exported again, and how often

    @property
    def size(self) -> int:
        return int(self.record.size)

    def render(self, selection: np.ndarray) -> Columns:
        """The contract's columns, as text, for the rows at `selection` (repeats allowed)."""
        columns = self.columns(selection)
        if tuple(columns) != self.contract.column_names:
            raise ValueError(f"{self.contract.raw_table}: columns {tuple(columns)} differ from the contract")
        return columns

    def records(self) -> int:
        """How many distinct records the rows carry (the rest are updates)."""
        ordered = np.sort(self.record)
        return int(ordered.size and 1 + np.count_nonzero(ordered[1:] != ordered[:-1]))

    def export_order(self) -> np.ndarray:
        """Rows by export day, then version time, then record."""
        return np.lexsort((self.record, self.version, self.export_day))


def _by_label(labels: tuple[str, ...], codes: np.ndarray) -> Counter[str]:
    return Counter(dict(zip(labels, np.bincount(codes, minlength=len(labels)).tolist(), strict=True)))


@dataclass
class SpellingTally:
    """How many records spell e-mails and phones each way, for the truth summary."""

    email: Counter[str] = field(default_factory=Counter)
    phone: Counter[str] = field(default_factory=Counter)

    def add(self, email: np.ndarray | None = None, phone: np.ndarray | None = None) -> None:
        if email is not None:
            self.email.update(_by_label(EMAIL_SPELLINGS, email))
        if phone is not None:
            self.phone.update(_by_label(PHONE_FORMATS, phone))


@dataclass(frozen=True)
class OrderExports:
    """Export rows of the orders inside the period: row i is order i's first export, re-exports follow."""

    order: np.ndarray  # order index per row
    export_day: np.ndarray
    version: np.ndarray  # updated_at
    store: np.ndarray  # store number written, -1 for web orders


def _ts(seconds: np.ndarray, timeline: Timeline, valid: np.ndarray | None = None) -> pa.Array:
    """Seconds since start as timestamps; NEVER is only allowed where `valid` is False."""
    return text.timestamps(np.where(seconds < NEVER, seconds, 0) + timeline.epoch_seconds, valid)


def _pick(rng: np.random.Generator, n: int, shares: tuple[float, ...]) -> np.ndarray:
    return rng.choice(len(shares), size=n, p=shares)


def _other(rng: np.random.Generator, codes: np.ndarray, k: int) -> np.ndarray:
    """A different code in range(k) for each code."""
    return (codes + rng.integers(1, k, size=codes.size)) % k


def _optional_id(prefix: str, number: np.ndarray, width: int, present: np.ndarray) -> pa.Array:
    return text.with_nulls(text.ids(prefix, np.maximum(number, 0) + 1, width), present)


def account_rows(
    population: Population,
    identities: Identities,
    timeline: Timeline,
    rng: np.random.Generator,
    tally: SpellingTally,
) -> Rows:
    """Accounts at sign-up (the first purchase) and again when a phone number is added later."""
    holders = np.flatnonzero(identities.account_number >= 0)
    created = to_seconds(population.acquired[holders])
    phone_since = identities.account_phone_since[holders]
    email = _pick(rng, holders.size, EMAIL_SPELLING_SHARES)
    phone = _pick(rng, holders.size, PHONE_FORMAT_SHARES)
    tally.add(email=email, phone=phone[phone_since < NEVER])
    added_later = np.flatnonzero((phone_since > created) & (phone_since < timeline.end_seconds))
    record = np.concatenate([np.arange(holders.size), added_later])
    version = np.concatenate([created, phone_since[added_later]])

    def columns(selection: np.ndarray) -> Columns:
        row, at = record[selection], version[selection]
        person = holders[row]
        return {
            "account_id": text.ids("A", identities.account_number[person] + 1, 6),
            "email": identities.email(person, email[row]),
            "phone": text.with_nulls(identities.phone(person, phone[row]), phone_since[row] <= at),
            "created_at": _ts(created[row], timeline),
            "updated_at": _ts(at, timeline),
        }

    reasons = {"phone_added": int(added_later.size)}
    return Rows(CUSTOMER_ACCOUNTS, record, version, export_day(version), columns, reasons)


def order_rows(
    orders: Orders,
    identities: Identities,
    exports: OrderExports,
    timeline: Timeline,
    rng: np.random.Generator,
    tally: SpellingTally,
) -> Rows:
    """Orders as exported: web orders name the account or the guest's e-mail, store orders the card if shown."""
    email = _pick(rng, orders.exported, EMAIL_SPELLING_SHARES)
    tally.add(email=email[orders.guest[: orders.exported]])

    def columns(selection: np.ndarray) -> Columns:
        order = exports.order[selection]
        person = orders.person[order]
        store = exports.store[selection]
        return {
            "order_id": text.ids("O", order + 1, 9),
            "account_id": _optional_id("A", identities.account_number[person], 6, orders.with_account[order]),
            "guest_email": text.with_nulls(identities.email(person, email[order]), orders.guest[order]),
            "loyalty_card": _optional_id("L", identities.card_number[person], 8, orders.with_card[order]),
            "channel": text.labels(ORDER_CHANNELS, orders.in_store[order].astype(np.int64)),
            "store_id": _optional_id("S", store, 3, store >= 0),
            "ordered_at": _ts(orders.seconds[order], timeline),
            "currency": text.constant(CURRENCY, order.size),
            "order_total": text.amounts(orders.total_cents[order]),
            "updated_at": _ts(exports.version[selection], timeline),
        }

    again = exports.order[orders.exported :]
    corrected = int(orders.in_store[again].sum())
    reasons = {"store_id_corrected": corrected, "reexported": int(again.size) - corrected}
    return Rows(ORDERS, exports.order, exports.version, exports.export_day, columns, reasons)


def order_line_rows(orders: Orders, catalog: Catalog, exports: OrderExports, timeline: Timeline) -> Rows:
    """The lines of every order row, exported with it and carrying its updated_at."""
    counts = orders.line_count[exports.order]
    owner = np.repeat(np.arange(exports.order.size), counts)
    first_of_owner = np.repeat(np.cumsum(counts) - counts, counts)
    position = np.arange(owner.size) - first_of_owner
    line = orders.line_start[exports.order][owner] + position
    version = exports.version[owner]

    def columns(selection: np.ndarray) -> Columns:
        chosen = line[selection]
        sku = orders.line_sku[chosen]
        return {
            "order_id": text.ids("O", exports.order[owner[selection]] + 1, 9),
            "line_number": text.integers(position[selection] + 1),
            "sku": catalog.sku.take(pa.array(sku)),
            "category": text.labels(CATEGORIES, catalog.category[sku]),
            "quantity": text.integers(orders.line_quantity[chosen]),
            "unit_price": text.amounts(orders.line_unit_cents[chosen]),
            "line_amount": text.amounts(orders.line_amount_cents[chosen]),
            "updated_at": _ts(version[selection], timeline),
        }

    reasons = {"reexported_with_order": int(counts[orders.exported :].sum())}
    return Rows(ORDER_LINES, line, version, exports.export_day[owner], columns, reasons)


def refund_rows(refunds: Refunds, timeline: Timeline) -> Rows:
    """Refunds on the day they are paid."""
    record = np.arange(refunds.order.size)

    def columns(selection: np.ndarray) -> Columns:
        reason = refunds.reason[selection]
        return {
            "refund_id": text.ids("R", selection + 1, 8),
            "order_id": text.ids("O", refunds.order[selection] + 1, 9),
            "refunded_at": _ts(refunds.seconds[selection], timeline),
            "amount": text.amounts(refunds.amount_cents[selection]),
            "reason": text.labels(REFUND_REASONS, np.maximum(reason, 0), reason >= 0),
            "updated_at": _ts(refunds.seconds[selection], timeline),
        }

    return Rows(REFUNDS, record, refunds.seconds, export_day(refunds.seconds), columns, {})


def contact_rows(
    population: Population,
    identities: Identities,
    marketing: MarketingEvents,
    timeline: Timeline,
    rng: np.random.Generator,
    tally: SpellingTally,
) -> Rows:
    """Contacts when created, when they move region and when they withdraw consent (full record each time).

    A duplicate contact spells the person's e-mail and phone differently from their first contact and
    never changes; moves and consent withdrawals land on the first contact.
    """
    contacts = identities.contacts
    n, end = contacts.person.size, timeline.end_seconds
    person = contacts.person
    primary = identities.primary_contact[person]
    email = _pick(rng, n, EMAIL_SPELLING_SHARES)
    email = np.where(contacts.duplicate, _other(rng, email[primary], len(EMAIL_SPELLINGS)), email)
    phone = _pick(rng, n, PHONE_FORMAT_SHARES)
    phone = np.where(contacts.duplicate, _other(rng, phone[primary], len(PHONE_FORMATS)), phone)
    has_email = rng.random(n) < CONTACT_EMAIL_SHARE
    has_phone = identities.has_phone[person] & (rng.random(n) < CONTACT_PHONE_SHARE)
    present = {column: rng.random(n) >= share for column, share in CONTACT_MISSING_SHARES.items()}

    in_period = np.maximum(contacts.created, 0)
    move_at = in_period + (rng.random(n) * (end - in_period)).astype(np.int64)
    moves = ~contacts.duplicate & (rng.random(n) < REGION_MOVE_SHARE) & (move_at > contacts.created)
    moved_at = np.where(moves & (contacts.created < end), move_at, NEVER)
    new_region = _other(rng, population.region[person], len(REGIONS))
    withdrawn_at = marketing.unsubscribed[primary]

    created = np.flatnonzero(contacts.created < end)
    moved = np.flatnonzero(moved_at < end)
    withdrawn = np.flatnonzero(~contacts.duplicate & (marketing.unsubscribed < end))
    record = np.concatenate([created, moved, withdrawn])
    version = np.concatenate([contacts.created[created], moved_at[moved], marketing.unsubscribed[withdrawn]])
    tally.add(email=email[created][has_email[created]], phone=phone[created][has_phone[created]])

    def columns(selection: np.ndarray) -> Columns:
        row, at = record[selection], version[selection]
        who = person[row]
        region = np.where(at >= moved_at[primary[row]], new_region[primary[row]], population.region[who])
        consent = population.marketing_consent[who] & (at < withdrawn_at[row])
        return {
            "contact_id": text.ids("C", row + 1, 6),
            "email": text.with_nulls(identities.email(who, email[row]), has_email[row]),
            "phone": text.with_nulls(identities.phone(who, phone[row]), has_phone[row]),
            "region": text.labels(REGIONS, region, present["region"][row]),
            "age_band": text.labels(AGE_BANDS, population.age_band[who], present["age_band"][row]),
            "acquisition_channel": text.labels(
                ACQUISITION_CHANNELS, population.acquisition_channel[who], present["acquisition_channel"][row]
            ),
            "marketing_consent": text.labels(("false", "true"), consent.astype(np.int64)),
            "created_at": _ts(contacts.created[row], timeline),
            "updated_at": _ts(at, timeline),
        }

    reasons = {"region_moved": int(moved.size), "consent_withdrawn": int(withdrawn.size)}
    return Rows(CONTACTS, record, version, export_day(version), columns, reasons)


def _card_spend_cents(
    orders: Orders, identities: Identities, card: np.ndarray, before: np.ndarray
) -> np.ndarray:
    """Total of the orders each card was shown on strictly before the given times."""
    shown = np.flatnonzero(orders.with_card)
    owner = identities.card_number[orders.person[shown]]
    by_card = np.lexsort((orders.seconds[shown], owner))
    scale = np.int64(1) << 40  # beyond any seconds value
    keys = owner[by_card] * scale + orders.seconds[shown][by_card]
    cumulative = np.concatenate([[0], np.cumsum(orders.total_cents[shown][by_card])])
    upto = np.searchsorted(keys, card * scale + np.clip(before, 0, scale - 1), side="left")
    first = np.searchsorted(keys, card * scale, side="left")
    return cumulative[upto] - cumulative[first]


def loyalty_rows(orders: Orders, identities: Identities, population: Population, timeline: Timeline) -> Rows:
    """Cards at enrolment and when upgraded; points are a welcome bonus plus one per euro spent with the card."""
    members = np.flatnonzero(identities.card_enrolled < timeline.end_seconds)
    upgraded = members[identities.card_upgraded[members] < timeline.end_seconds]
    who = np.concatenate([members, upgraded])
    version = np.concatenate([identities.card_enrolled[members], identities.card_upgraded[upgraded]])
    tier = np.concatenate([identities.card_initial_tier[members], population.loyalty_tier[upgraded]])
    card = identities.card_number[who]
    points = WELCOME_POINTS + _card_spend_cents(orders, identities, card, version) // 100

    def columns(selection: np.ndarray) -> Columns:
        member = who[selection]
        return {
            "card_number": text.ids("L", card[selection] + 1, 8),
            "contact_id": text.ids("C", identities.primary_contact[member] + 1, 6),
            "tier": text.labels(LOYALTY_TIERS, tier[selection]),
            "points_balance": text.integers(points[selection]),
            "enrolled_at": _ts(identities.card_enrolled[member], timeline),
            "updated_at": _ts(version[selection], timeline),
        }

    reasons = {"tier_upgraded": int(upgraded.size)}
    return Rows(LOYALTY_MEMBERS, card, version, export_day(version), columns, reasons)


def ticket_rows(tickets: Tickets, timeline: Timeline) -> Rows:
    """Tickets when opened and again when closed (with the satisfaction score, if given)."""
    opened = np.flatnonzero(tickets.opened < timeline.end_seconds)
    closed = np.flatnonzero(tickets.closed < timeline.end_seconds)
    record = np.concatenate([opened, closed])
    is_closed = np.arange(record.size) >= opened.size
    version = np.concatenate([tickets.opened[opened], tickets.closed[closed]])
    satisfaction = np.where(is_closed, tickets.satisfaction[record], 0)

    def columns(selection: np.ndarray) -> Columns:
        row, score = record[selection], satisfaction[selection]
        return {
            "ticket_id": text.ids("T", row + 1, 7),
            "contact_id": text.ids("C", tickets.contact[row] + 1, 6),
            "opened_at": _ts(tickets.opened[row], timeline),
            "category": text.labels(TICKET_CATEGORIES, tickets.category[row]),
            "status": text.labels(TICKET_STATUSES, is_closed[selection].astype(np.int64)),
            "satisfaction_score": text.integers(score, score > 0),
            "updated_at": _ts(version[selection], timeline),
        }

    reasons = {"closed": int(closed.size)}
    return Rows(SUPPORT_TICKETS, record, version, export_day(version), columns, reasons)


def marketing_rows(marketing: MarketingEvents, timeline: Timeline) -> Rows:
    """Marketing events on the day they happen; they never change."""
    record = np.arange(marketing.seconds.size)

    def columns(selection: np.ndarray) -> Columns:
        return {
            "event_id": text.ids("E", selection + 1, 9),
            "contact_id": text.ids("C", marketing.contact[selection] + 1, 6),
            "campaign_id": text.labels(marketing.campaign_ids, marketing.campaign[selection]),
            "event_type": text.labels(MARKETING_EVENT_TYPES, marketing.event_type[selection]),
            "occurred_at": _ts(marketing.seconds[selection], timeline),
        }

    return Rows(MARKETING_EVENTS, record, marketing.seconds, export_day(marketing.seconds), columns, {})
