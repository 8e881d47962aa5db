"""Buy-till-you-die simulation: every person's orders, their lines, and the refunds against them.

While alive (from acquisition, or from the period start for earlier customers, until dropout or the
truth horizon) a person buys as a Poisson process with their own rate λ: given the count, purchase days
are uniform over the window, and each purchase gets a time of day for its channel. Order values follow
the gamma-gamma idea: a gamma draw around the person's mean order value, split into 1-5 lines whose
unit prices snap to the nearest catalogue price, so totals track the person's spend level closely but
not exactly. Everything is vectorised over all purchases; orders come out sorted by time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sources.demo import text
from sources.demo.identities import Identities
from sources.demo.population import REGIONS, STORE_CHANNEL, Population
from sources.demo.timeline import SECONDS_PER_DAY, Timeline, time_of_day, to_seconds

CATEGORIES = ("apparel", "footwear", "accessories", "home", "beauty", "electronics", "sports", "books")
CATEGORY_CODES = ("APP", "FTW", "ACC", "HOM", "BTY", "ELC", "SPT", "BOK")
CATEGORY_POPULARITY = (0.22, 0.10, 0.12, 0.14, 0.12, 0.10, 0.10, 0.10)
CATEGORY_PRICE_RANGES = (  # EUR, catalogue prices are log-uniform in between
    (8, 300), (20, 350), (5, 250), (5, 800), (4, 150), (10, 1500), (6, 600), (3, 120),
)  # fmt: skip
SKUS_PER_CATEGORY = 300
FAVOURITE_CATEGORY_SHARE = 0.4  # of lines, when the favourite category sells at the wanted price
LINE_COUNT_SHARES = (0.40, 0.25, 0.17, 0.11, 0.07)  # 1..5 lines
QUANTITY_SHARES = (0.75, 0.18, 0.07)  # 1..3 units
ORDER_VALUE_SHAPE = 5.0  # gamma shape of one order's value around the person's mean
LINE_SHARE_CONCENTRATION = 1.5  # Dirichlet parameter splitting an order's value over its lines

STORES_PER_REGION = 8
HOME_STORE_SHARE = 0.85
GUEST_CHECKOUT_BY_ACCOUNT_HOLDERS = 0.05  # account holders who buy without logging in
LOYALTY_CARD_SHOWN_SHARE = 0.85

REFUND_SHARE_WEB = 0.075
REFUND_SHARE_STORE = 0.035
REFUND_DELAY_DAYS = (1, 30)
FULL_REFUND_SHARE = 0.5  # the rest return a single unit of one line
REFUND_REASONS = ("damaged", "wrong_size", "not_as_described", "changed_mind", "late_delivery")
REFUND_REASON_SHARES = (0.2, 0.3, 0.2, 0.2, 0.1)
REFUND_REASON_MISSING_SHARE = 0.12


@dataclass(frozen=True)
class Catalog:
    """SKUs sorted by (category, price); index = SKU number."""

    sku: pa.Array
    category: np.ndarray
    price_cents: np.ndarray

    def category_bounds(self) -> np.ndarray:
        """Start index of each category's SKUs, plus the end."""
        return np.searchsorted(self.category, np.arange(len(CATEGORIES) + 1))


@dataclass(frozen=True)
class Orders:
    """Every simulated order up to the truth horizon, sorted by time; lines are contiguous per order."""

    person: np.ndarray
    seconds: np.ndarray  # ordered at, seconds since start
    in_store: np.ndarray
    store: np.ndarray  # store number, -1 for web orders
    with_account: np.ndarray  # web order by a logged-in account holder
    with_card: np.ndarray  # store order with the loyalty card shown
    total_cents: np.ndarray
    line_start: np.ndarray
    line_count: np.ndarray
    line_sku: np.ndarray  # index into the catalogue
    line_quantity: np.ndarray
    line_unit_cents: np.ndarray
    line_amount_cents: np.ndarray
    exported: int  # orders [0, exported) happen before the period end and reach the landing files

    @property
    def guest(self) -> np.ndarray:
        return ~self.in_store & ~self.with_account

    @property
    def size(self) -> int:
        return int(self.seconds.size)


@dataclass(frozen=True)
class Refunds:
    """Refunds inside the export period, sorted by time (refund number = index + 1)."""

    order: np.ndarray
    seconds: np.ndarray
    amount_cents: np.ndarray
    reason: np.ndarray  # code into REFUND_REASONS, -1 when the shop recorded none


def build_catalog(rng: np.random.Generator) -> Catalog:
    """A fixed catalogue of SKUs per category with log-uniform prices inside the category's range."""
    category = np.repeat(np.arange(len(CATEGORIES)), SKUS_PER_CATEGORY)
    low, high = np.log(np.array(CATEGORY_PRICE_RANGES, dtype=np.float64)).T
    price = np.exp(rng.uniform(low[category], high[category]))
    price_cents = np.round(price * 100).astype(np.int64) // 10 * 10 - 1  # shelf prices end in 9
    order = np.lexsort((price_cents, category))
    prefixes = text.labels(CATEGORY_CODES, category)
    numbers = text.ids("-", np.tile(np.arange(1, SKUS_PER_CATEGORY + 1), len(CATEGORIES)), 4)
    return Catalog(
        sku=text.concat(prefixes, numbers).take(pa.array(order)),
        category=category[order],
        price_cents=price_cents[order],
    )


def _purchase_times(
    population: Population, timeline: Timeline, rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    """(person, days since start, in store) of every purchase until dropout or the truth horizon."""
    n = population.size
    window_start = np.maximum(population.acquired, 0.0)
    window_end = np.minimum(population.dropout, float(timeline.horizon_days))
    span = np.clip(window_end - window_start, 0.0, None)
    repeats = rng.poisson(population.purchase_rate * span)
    person = np.repeat(np.arange(n), repeats)
    day = np.floor(window_start[person] + rng.random(person.size) * span[person])
    in_store = rng.random(person.size) >= population.web_share[person]
    when = day + time_of_day(in_store, rng)
    # Redrawing the time of day must not move a purchase before acquisition or past dropout.
    alive = (when >= population.acquired[person]) & (when < window_end[person])
    newcomers = np.flatnonzero(~population.existing)
    return (
        np.concatenate([newcomers, person[alive]]),
        np.concatenate([population.acquired[newcomers], when[alive]]),
        np.concatenate([population.acquisition_channel[newcomers] == STORE_CHANNEL, in_store[alive]]),
    )


def _line_categories(wanted_cents: np.ndarray, favourite: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A category per line that sells at the wanted unit price: the person's favourite or a popular one."""
    low, high = (np.array(CATEGORY_PRICE_RANGES, dtype=np.float64) * 100).T

    def sells(category: np.ndarray) -> np.ndarray:
        return (low[category] <= wanted_cents) & (wanted_cents <= high[category])

    category = rng.choice(len(CATEGORIES), size=wanted_cents.size, p=CATEGORY_POPULARITY)
    for _ in range(4):  # redraw lines whose category does not stock the price
        misfit = np.flatnonzero(~sells(category))
        category[misfit] = rng.choice(len(CATEGORIES), size=misfit.size, p=CATEGORY_POPULARITY)
    widest = int(np.argmax(high - low))
    category = np.where(sells(category), category, widest)
    use_favourite = sells(favourite) & (rng.random(wanted_cents.size) < FAVOURITE_CATEGORY_SHARE)
    return np.where(use_favourite, favourite, category)


def _nearest_sku(catalog: Catalog, category: np.ndarray, wanted_cents: np.ndarray) -> np.ndarray:
    """The SKU of `category` whose price is closest to the wanted unit price."""
    bounds = catalog.category_bounds()
    scale = np.int64(10**9)
    keys = catalog.category * scale + catalog.price_cents
    above = np.searchsorted(keys, category * scale + wanted_cents)
    above = np.clip(above, bounds[category], bounds[category + 1] - 1)
    below = np.maximum(above - 1, bounds[category])
    closer_below = np.abs(catalog.price_cents[below] - wanted_cents) < np.abs(
        catalog.price_cents[above] - wanted_cents
    )
    return np.where(closer_below, below, above)


def simulate_orders(
    population: Population,
    identities: Identities,
    catalog: Catalog,
    timeline: Timeline,
    rng: np.random.Generator,
) -> Orders:
    """All purchases up to the truth horizon, with channel, identifiers shown, lines and totals."""
    person, days, in_store = _purchase_times(population, timeline, rng)
    order = np.lexsort((person, days))
    person, in_store = person[order], in_store[order]
    seconds = to_seconds(days[order])
    n = person.size

    has_account = identities.account_number[person] >= 0
    with_account = ~in_store & has_account & (rng.random(n) >= GUEST_CHECKOUT_BY_ACCOUNT_HOLDERS)
    with_card = (
        in_store & (seconds >= identities.card_enrolled[person]) & (rng.random(n) < LOYALTY_CARD_SHOWN_SHARE)
    )
    home_store = population.region * STORES_PER_REGION + rng.integers(
        0, STORES_PER_REGION, size=population.size
    )
    any_store = rng.integers(0, len(REGIONS) * STORES_PER_REGION, size=n)
    store = np.where(rng.random(n) < HOME_STORE_SHARE, home_store[person], any_store)
    store = np.where(in_store, store, -1)

    line_count = rng.choice(len(LINE_COUNT_SHARES), size=n, p=LINE_COUNT_SHARES) + 1
    line_start = np.zeros(n, dtype=np.int64)
    np.cumsum(line_count[:-1], out=line_start[1:])
    line_order = np.repeat(np.arange(n), line_count)
    mean_value = population.mean_order_value[person]
    order_value = rng.gamma(ORDER_VALUE_SHAPE, mean_value / ORDER_VALUE_SHAPE)
    weight = rng.gamma(LINE_SHARE_CONCENTRATION, size=line_order.size)
    share = weight / np.add.reduceat(weight, line_start)[line_order]
    quantity = rng.choice(len(QUANTITY_SHARES), size=line_order.size, p=QUANTITY_SHARES) + 1
    wanted_cents = np.round(order_value[line_order] * share / quantity * 100).astype(np.int64)
    favourite = rng.choice(len(CATEGORIES), size=population.size, p=CATEGORY_POPULARITY)
    category = _line_categories(wanted_cents, favourite[person][line_order], rng)
    sku = _nearest_sku(catalog, category, wanted_cents)
    unit_cents = catalog.price_cents[sku]
    amount_cents = unit_cents * quantity

    return Orders(
        person=person,
        seconds=seconds,
        in_store=in_store,
        store=store,
        with_account=with_account,
        with_card=with_card,
        total_cents=np.add.reduceat(amount_cents, line_start),
        line_start=line_start,
        line_count=line_count,
        line_sku=sku,
        line_quantity=quantity,
        line_unit_cents=unit_cents,
        line_amount_cents=amount_cents,
        exported=int(np.searchsorted(seconds, timeline.end_seconds)),
    )


def simulate_refunds(orders: Orders, timeline: Timeline, rng: np.random.Generator) -> Refunds:
    """Refunds 1-30 days after an exported order, kept when they fall inside the export period."""
    exported = np.arange(orders.exported)
    share = np.where(orders.in_store[exported], REFUND_SHARE_STORE, REFUND_SHARE_WEB)
    order = exported[rng.random(exported.size) < share]
    low, high = REFUND_DELAY_DAYS
    seconds = orders.seconds[order] + (rng.uniform(low, high, size=order.size) * SECONDS_PER_DAY).astype(
        np.int64
    )
    one_line = orders.line_start[order] + (rng.random(order.size) * orders.line_count[order]).astype(np.int64)
    amount = np.where(
        rng.random(order.size) < FULL_REFUND_SHARE,
        orders.total_cents[order],
        orders.line_unit_cents[one_line],
    )
    reason = np.where(
        rng.random(order.size) < REFUND_REASON_MISSING_SHARE,
        -1,
        rng.choice(len(REFUND_REASONS), size=order.size, p=REFUND_REASON_SHARES),
    )
    inside = seconds < timeline.end_seconds
    by_time = np.lexsort((order[inside], seconds[inside]))
    return Refunds(
        order=order[inside][by_time],
        seconds=seconds[inside][by_time],
        amount_cents=amount[inside][by_time],
        reason=reason[inside][by_time],
    )
