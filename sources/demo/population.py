"""Latent customers: who they are, when they arrive, and the rates that drive their buying and leaving.

Each person gets a purchase rate λ (per day), a dropout rate μ (per day) and a mean order value, in the
Pareto/NBD and gamma-gamma tradition: gamma-distributed base values for heterogeneity, multiplied by the
effects of the person's CRM attributes below, so that those attributes genuinely carry signal.

| attribute            | level     | purchase rate λ × | dropout rate μ × | order value × |
|----------------------|-----------|-------------------|------------------|---------------|
| complaints           | 0         | 1.00              | 1.00             | 1.00          |
| complaints           | 1         | 0.95              | 1.80             | 1.00          |
| complaints           | 2         | 0.90              | 2.80             | 1.00          |
| complaints           | 3+        | 0.85              | 4.00             | 1.00          |
| marketing_consent    | no        | 1.00              | 1.00             | 1.00          |
| marketing_consent    | yes       | 1.05              | 0.95             | 1.00          |
| email_engagement     | none      | 1.00              | 1.00             | 1.00          |
| email_engagement     | low       | 1.00              | 1.05             | 1.00          |
| email_engagement     | medium    | 1.15              | 0.85             | 1.00          |
| email_engagement     | high      | 1.35              | 0.65             | 1.05          |
| loyalty_tier         | none      | 1.00              | 1.00             | 1.00          |
| loyalty_tier         | bronze    | 1.10              | 0.90             | 1.00          |
| loyalty_tier         | silver    | 1.30              | 0.70             | 1.05          |
| loyalty_tier         | gold      | 1.60              | 0.50             | 1.10          |
| acquisition_channel  | search    | 1.00              | 1.00             | 1.00          |
| acquisition_channel  | social    | 0.90              | 1.30             | 0.90          |
| acquisition_channel  | referral  | 1.10              | 0.75             | 1.05          |
| acquisition_channel  | store     | 1.05              | 0.90             | 1.10          |
| acquisition_channel  | affiliate | 0.85              | 1.40             | 0.95          |
| region               | north     | 1.00              | 1.00             | 1.00          |
| region               | south     | 0.95              | 1.05             | 0.95          |
| region               | east      | 0.90              | 1.10             | 0.90          |
| region               | west      | 1.05              | 0.95             | 1.05          |
| region               | capital   | 1.15              | 1.00             | 1.20          |
| age_band             | 18-24     | 0.85              | 1.40             | 0.70          |
| age_band             | 25-34     | 1.00              | 1.15             | 0.90          |
| age_band             | 35-44     | 1.10              | 0.95             | 1.10          |
| age_band             | 45-54     | 1.05              | 0.85             | 1.20          |
| age_band             | 55-64     | 0.95              | 0.80             | 1.15          |
| age_band             | 65+       | 0.85              | 0.80             | 1.00          |

Complaints, marketing consent and e-mail engagement belong to CRM contacts: people without a contact
have none of them. Everyone on the loyalty programme has a contact. Attributes are those at
acquisition; later moves and consent withdrawals are record updates, not behaviour changes. About 30%
of people were customers before the period starts; they are alive at the start (their lifetime is
memoryless, so it is drawn from the start) and buy from it on; everyone else arrives during the period
with a first purchase at acquisition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sources.demo.config import vocabulary
from sources.demo.timeline import Timeline, time_of_day


class Effect(NamedTuple):
    """Multipliers one attribute level applies to the purchase rate, dropout rate and order value."""

    rate: float
    dropout: float
    spend: float


# Vocabularies from the demo's configuration; the effect tables below are in the same order (strict zips
# fail on a list that changed length).
REGIONS = vocabulary("regions")
AGE_BANDS = vocabulary("age_bands")
ACQUISITION_CHANNELS = vocabulary("acquisition_channels")
LOYALTY_TIERS = ("none", *vocabulary("loyalty_tiers"))  # 'none' is no card, the pipeline's own level
EMAIL_ENGAGEMENT = ("none", "low", "medium", "high")
COMPLAINT_LEVELS = ("0", "1", "2", "3+")
STORE_CHANNEL = ACQUISITION_CHANNELS.index("store")


def _effects(levels: tuple[str, ...], *effects: Effect) -> dict[str, Effect]:
    return dict(zip(levels, effects, strict=True))


EFFECTS: dict[str, dict[str, Effect]] = {
    "complaints": _effects(
        COMPLAINT_LEVELS,
        Effect(1.00, 1.00, 1.00),
        Effect(0.95, 1.80, 1.00),
        Effect(0.90, 2.80, 1.00),
        Effect(0.85, 4.00, 1.00),
    ),
    "marketing_consent": _effects(("no", "yes"), Effect(1.00, 1.00, 1.00), Effect(1.05, 0.95, 1.00)),
    "email_engagement": _effects(
        EMAIL_ENGAGEMENT,
        Effect(1.00, 1.00, 1.00),
        Effect(1.00, 1.05, 1.00),
        Effect(1.15, 0.85, 1.00),
        Effect(1.35, 0.65, 1.05),
    ),
    "loyalty_tier": _effects(
        LOYALTY_TIERS,
        Effect(1.00, 1.00, 1.00),
        Effect(1.10, 0.90, 1.00),
        Effect(1.30, 0.70, 1.05),
        Effect(1.60, 0.50, 1.10),
    ),
    "acquisition_channel": _effects(
        ACQUISITION_CHANNELS,
        Effect(1.00, 1.00, 1.00),
        Effect(0.90, 1.30, 0.90),
        Effect(1.10, 0.75, 1.05),
        Effect(1.05, 0.90, 1.10),
        Effect(0.85, 1.40, 0.95),
    ),
    "region": _effects(
        REGIONS,
        Effect(1.00, 1.00, 1.00),
        Effect(0.95, 1.05, 0.95),
        Effect(0.90, 1.10, 0.90),
        Effect(1.05, 0.95, 1.05),
        Effect(1.15, 1.00, 1.20),
    ),
    "age_band": _effects(
        AGE_BANDS,
        Effect(0.85, 1.40, 0.70),
        Effect(1.00, 1.15, 0.90),
        Effect(1.10, 0.95, 1.10),
        Effect(1.05, 0.85, 1.20),
        Effect(0.95, 0.80, 1.15),
        Effect(0.85, 0.80, 1.00),
    ),
}

REGION_SHARES = (0.20, 0.20, 0.17, 0.18, 0.25)
AGE_BAND_SHARES = (0.12, 0.24, 0.22, 0.18, 0.14, 0.10)
CHANNEL_SHARES = (0.30, 0.20, 0.12, 0.28, 0.10)
TIER_SHARES = (0.55, 0.25, 0.13, 0.07)
ENGAGEMENT_SHARES_IF_CONSENTING = (0.45, 0.35, 0.20)  # low, medium, high
COMPLAINT_COUNT_SHARES = (0.74, 0.15, 0.06, 0.03, 0.015, 0.005)  # 0..5 complaints, contacts only
EXISTING_CUSTOMER_SHARE = 0.30
EXISTING_CUSTOMER_MAX_AGE_DAYS = 3 * 365
CONTACT_SHARE = 0.72  # before loyalty members, who all have a contact
CONSENT_SHARE = 0.60  # of contacts

# Gamma heterogeneity of the base rates (shape, mean) before attribute effects.
PURCHASE_RATE_GAMMA = (1.8, 1 / 60)
DROPOUT_RATE_GAMMA = (1.5, 1 / 650)
ORDER_VALUE_GAMMA = (2.5, 62.0)
ORDER_VALUE_RANGE = (20.0, 300.0)
# Web-shop share of a person's repeat orders: beta-distributed around a mean that is lower for people
# acquired in a store, so about 60% of all orders are web orders.
WEB_SHARE_MEAN_STORE_ACQUIRED = 0.25
WEB_SHARE_MEAN_OTHERS = 0.72
WEB_SHARE_CONCENTRATION = 4.0


@dataclass(frozen=True)
class Population:
    """One entry per person (index = person number); times in float days since the period start."""

    existing: np.ndarray  # bool: a customer before the period starts
    acquired: np.ndarray  # days; negative for existing customers
    dropout: np.ndarray  # days; may lie past the truth horizon
    purchase_rate: np.ndarray  # λ, purchases per day while alive
    dropout_rate: np.ndarray  # μ, per day
    mean_order_value: np.ndarray  # EUR
    web_share: np.ndarray  # probability a repeat order is placed in the web shop
    region: np.ndarray  # codes into REGIONS
    age_band: np.ndarray  # codes into AGE_BANDS
    acquisition_channel: np.ndarray  # codes into ACQUISITION_CHANNELS
    loyalty_tier: np.ndarray  # codes into LOYALTY_TIERS (0 = not a member)
    email_engagement: np.ndarray  # codes into EMAIL_ENGAGEMENT (0 = no consent)
    has_contact: np.ndarray  # bool: known to the CRM
    marketing_consent: np.ndarray  # bool, at acquisition
    complaints: np.ndarray  # support complaints over the whole truth horizon

    @property
    def size(self) -> int:
        return int(self.acquired.size)


def _gamma(rng: np.random.Generator, shape: float, mean: float, n: int) -> np.ndarray:
    return rng.gamma(shape, mean / shape, size=n)


def _multipliers(attribute: str, codes: np.ndarray) -> np.ndarray:
    """(n, 3) rate/dropout/spend multipliers of one attribute's levels, looked up per person."""
    table = np.array([tuple(effect) for effect in EFFECTS[attribute].values()], dtype=np.float64)
    return table[codes]


def simulate_population(n: int, timeline: Timeline, rng: np.random.Generator) -> Population:
    """Draw `n` latent people: attributes, acquisition and dropout times, and behaviour rates."""
    region = rng.choice(len(REGIONS), size=n, p=REGION_SHARES)
    age_band = rng.choice(len(AGE_BANDS), size=n, p=AGE_BAND_SHARES)
    channel = rng.choice(len(ACQUISITION_CHANNELS), size=n, p=CHANNEL_SHARES)
    tier = rng.choice(len(LOYALTY_TIERS), size=n, p=TIER_SHARES)
    has_contact = (rng.random(n) < CONTACT_SHARE) | (tier > 0)
    consent = has_contact & (rng.random(n) < CONSENT_SHARE)
    engagement = np.where(consent, 1 + rng.choice(3, size=n, p=ENGAGEMENT_SHARES_IF_CONSENTING), 0)
    complaints = np.where(
        has_contact, rng.choice(len(COMPLAINT_COUNT_SHARES), size=n, p=COMPLAINT_COUNT_SHARES), 0
    )

    effect = (
        _multipliers("complaints", np.minimum(complaints, 3))
        * _multipliers("marketing_consent", consent.astype(np.int64))
        * _multipliers("email_engagement", engagement)
        * _multipliers("loyalty_tier", tier)
        * _multipliers("acquisition_channel", channel)
        * _multipliers("region", region)
        * _multipliers("age_band", age_band)
    )
    purchase_rate = _gamma(rng, *PURCHASE_RATE_GAMMA, n) * effect[:, 0]
    dropout_rate = _gamma(rng, *DROPOUT_RATE_GAMMA, n) * effect[:, 1]
    mean_order_value = np.clip(_gamma(rng, *ORDER_VALUE_GAMMA, n) * effect[:, 2], *ORDER_VALUE_RANGE)

    existing = rng.random(n) < EXISTING_CUSTOMER_SHARE
    in_store = channel == STORE_CHANNEL
    acquired_day = np.where(
        existing,
        -rng.integers(1, EXISTING_CUSTOMER_MAX_AGE_DAYS + 1, size=n),
        rng.integers(0, timeline.n_days, size=n),
    )
    acquired = acquired_day + time_of_day(in_store, rng)
    lifetime = rng.exponential(1.0 / dropout_rate)
    dropout = np.minimum(np.where(existing, 0.0, acquired) + lifetime, timeline.latest_day)

    web_mean = np.where(in_store, WEB_SHARE_MEAN_STORE_ACQUIRED, WEB_SHARE_MEAN_OTHERS)
    web_share = rng.beta(web_mean * WEB_SHARE_CONCENTRATION, (1 - web_mean) * WEB_SHARE_CONCENTRATION)

    return Population(
        existing=existing,
        acquired=acquired,
        dropout=dropout,
        purchase_rate=purchase_rate,
        dropout_rate=dropout_rate,
        mean_order_value=mean_order_value,
        web_share=web_share,
        region=region,
        age_band=age_band,
        acquisition_channel=channel,
        loyalty_tier=tier,
        email_engagement=engagement,
        has_contact=has_contact,
        marketing_consent=consent,
        complaints=complaints,
    )
