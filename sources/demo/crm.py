"""CRM activity over time: support tickets and weekly e-mail campaigns, both tied to latent behaviour.

A person's complaint count (a driver of their dropout, see `population`) becomes complaint tickets that
mostly come in the weeks before they leave; other tickets arrive at a low steady rate while they are
alive. Campaigns go out weekly to a random quarter of the consenting contacts; opens and clicks follow
the person's engagement and fade once they have silently churned; an unsubscribe stops later sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from sources.demo.identities import NEVER, Identities
from sources.demo.population import Population
from sources.demo.timeline import SECONDS_PER_DAY, Timeline, to_seconds

TICKET_CATEGORIES = ("complaint", "question", "delivery", "return")
OTHER_TICKET_SHARES = (0.5, 0.3, 0.2)  # question, delivery, return
OTHER_TICKETS_PER_DAY = 1 / 1000
COMPLAINT_BEFORE_DROPOUT_SHARE = 0.7  # the rest fall anywhere in the person's active time
COMPLAINT_LEAD_DAYS = 20.0  # mean time from such a complaint to dropout
TICKET_CLOSE_DAYS = 3.0  # mean time to close
TICKET_LEFT_OPEN_SHARE = 0.08
SATISFACTION_ANSWER_SHARE = 0.7
SATISFACTION_SHARES = {  # scores 1..5
    "complaint": (0.35, 0.30, 0.20, 0.10, 0.05),
    "other": (0.03, 0.07, 0.20, 0.35, 0.35),
}

MARKETING_EVENT_TYPES = ("sent", "opened", "clicked", "unsubscribed")
CAMPAIGN_WEEKDAY = 1  # Tuesday
CAMPAIGN_HOUR = 9
AUDIENCE_SHARE = 0.25
# By e-mail engagement code (none, low, medium, high).
OPEN_SHARE = np.array([0.0, 0.08, 0.25, 0.50])
CLICK_SHARE = np.array([0.0, 0.10, 0.20, 0.35])  # of opens
UNSUBSCRIBE_SHARE = np.array([0.0, 0.06, 0.02, 0.008])  # of opens
CHURNED_OPEN_FACTOR = 0.3
CHURNED_UNSUBSCRIBE_FACTOR = 2.5
OPEN_DELAY_DAYS = 0.25
CLICK_DELAY_DAYS = 10 / 1440
UNSUBSCRIBE_DELAY_DAYS = 2 / 1440


@dataclass(frozen=True)
class Tickets:
    """Support tickets sorted by opening time (ticket number = index + 1); times in seconds since start."""

    contact: np.ndarray
    opened: np.ndarray
    category: np.ndarray  # code into TICKET_CATEGORIES
    closed: np.ndarray  # NEVER while open
    satisfaction: np.ndarray  # 1-5, 0 when not answered


@dataclass(frozen=True)
class MarketingEvents:
    """E-mail events inside the export period, sorted by time (event number = index + 1)."""

    contact: np.ndarray
    campaign: np.ndarray  # index into campaign_ids
    event_type: np.ndarray  # code into MARKETING_EVENT_TYPES
    seconds: np.ndarray
    campaign_ids: tuple[str, ...]
    unsubscribed: np.ndarray  # per contact: when they withdrew consent, NEVER if they did not


def _active_windows(
    population: Population, timeline: Timeline, person: np.ndarray, since: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """[start, end) in days of each person's active time from `since` (at least a point)."""
    start = np.maximum(since, 0.0)
    end = np.maximum(np.minimum(population.dropout[person], float(timeline.horizon_days)), start)
    return start, end


def simulate_tickets(
    population: Population, identities: Identities, timeline: Timeline, rng: np.random.Generator
) -> Tickets:
    """Complaints (mostly shortly before dropout) and other tickets of people with a CRM contact."""
    person = np.flatnonzero(identities.primary_contact >= 0)
    contact = identities.primary_contact[person]
    start, end = _active_windows(
        population, timeline, person, identities.contacts.created[contact] / SECONDS_PER_DAY
    )

    complaint_of = np.repeat(np.arange(person.size), population.complaints[person])
    dropout = population.dropout[person[complaint_of]]
    near_dropout = (dropout < timeline.horizon_days) & (
        rng.random(complaint_of.size) < COMPLAINT_BEFORE_DROPOUT_SHARE
    )
    span = end[complaint_of] - start[complaint_of]
    anywhere = start[complaint_of] + rng.random(complaint_of.size) * span
    complaint_day = np.where(
        near_dropout, dropout - rng.exponential(COMPLAINT_LEAD_DAYS, complaint_of.size), anywhere
    )
    complaint_day = np.clip(complaint_day, start[complaint_of], end[complaint_of])

    other_of = np.repeat(np.arange(person.size), rng.poisson(OTHER_TICKETS_PER_DAY * (end - start)))
    other_day = start[other_of] + rng.random(other_of.size) * (end - start)[other_of]
    other_category = 1 + rng.choice(len(OTHER_TICKET_SHARES), size=other_of.size, p=OTHER_TICKET_SHARES)

    owner = np.concatenate([complaint_of, other_of])
    opened = to_seconds(np.concatenate([complaint_day, other_day]))
    category = np.concatenate([np.zeros(complaint_of.size, dtype=np.int64), other_category])
    order = np.lexsort((category, owner, opened))
    owner, opened, category = owner[order], opened[order], category[order]

    n = opened.size
    close_after = (rng.exponential(TICKET_CLOSE_DAYS, n) * SECONDS_PER_DAY).astype(np.int64) + 60
    closed = np.where(rng.random(n) < TICKET_LEFT_OPEN_SHARE, NEVER, opened + close_after)
    score = np.where(
        category == 0,
        rng.choice(5, size=n, p=SATISFACTION_SHARES["complaint"]),
        rng.choice(5, size=n, p=SATISFACTION_SHARES["other"]),
    )
    answered = (closed < NEVER) & (rng.random(n) < SATISFACTION_ANSWER_SHARE)
    return Tickets(
        contact=contact[owner],
        opened=opened,
        category=category,
        closed=closed,
        satisfaction=np.where(answered, score + 1, 0),
    )


def _delay(rng: np.random.Generator, mean_days: float, n: int) -> np.ndarray:
    """Exponential delays in whole seconds, at least one so a follow-up event never ties its cause."""
    return (rng.exponential(mean_days, n) * SECONDS_PER_DAY).astype(np.int64) + 1


def _campaign_sends(timeline: Timeline) -> list[int]:
    """Send times (seconds since start) of the weekly campaigns inside the export period."""
    first = (CAMPAIGN_WEEKDAY - timeline.start.weekday()) % 7
    return [day * SECONDS_PER_DAY + CAMPAIGN_HOUR * 3600 for day in range(first, timeline.n_days, 7)]


def simulate_marketing(
    population: Population, identities: Identities, timeline: Timeline, rng: np.random.Generator
) -> MarketingEvents:
    """Weekly campaigns to consenting contacts; one loop step per campaign, vectorised over contacts."""
    person = np.flatnonzero((identities.primary_contact >= 0) & population.marketing_consent)
    contact = identities.primary_contact[person]
    created = identities.contacts.created[contact]
    engagement = population.email_engagement[person]
    dropout = to_seconds(population.dropout[person])
    unsubscribed = np.full(person.size, NEVER, dtype=np.int64)
    sends = _campaign_sends(timeline)
    batches: list[tuple[np.ndarray, int, int, np.ndarray]] = []  # contacts, campaign, type, seconds
    for campaign, send in enumerate(sends):
        reachable = (created <= send) & (unsubscribed > send) & (rng.random(person.size) < AUDIENCE_SHARE)
        who = np.flatnonzero(reachable)
        sent = send + (rng.random(who.size) * 3600).astype(np.int64)
        churned = dropout[who] <= sent
        open_share = OPEN_SHARE[engagement[who]] * np.where(churned, CHURNED_OPEN_FACTOR, 1.0)
        opened = rng.random(who.size) < open_share
        open_at = sent + _delay(rng, OPEN_DELAY_DAYS, who.size)
        clicked = opened & (rng.random(who.size) < CLICK_SHARE[engagement[who]])
        click_at = open_at + _delay(rng, CLICK_DELAY_DAYS, who.size)
        unsubscribe_share = UNSUBSCRIBE_SHARE[engagement[who]] * np.where(
            churned, CHURNED_UNSUBSCRIBE_FACTOR, 1.0
        )
        unsubscribing = opened & (rng.random(who.size) < unsubscribe_share)
        unsubscribe_at = open_at + _delay(rng, UNSUBSCRIBE_DELAY_DAYS, who.size)
        unsubscribed[who[unsubscribing]] = unsubscribe_at[unsubscribing]
        for code, happened, at in (
            (0, np.ones(who.size, dtype=bool), sent),
            (1, opened, open_at),
            (2, clicked, click_at),
            (3, unsubscribing, unsubscribe_at),
        ):
            batches.append((who[happened], campaign, code, at[happened]))

    empty = np.zeros(0, dtype=np.int64)
    recipient = np.concatenate([empty, *(who for who, _, _, _ in batches)])
    campaign_of = np.concatenate([empty, *(np.full(who.size, c) for who, c, _, _ in batches)])
    event_type = np.concatenate([empty, *(np.full(who.size, code) for who, _, code, _ in batches)])
    seconds = np.concatenate([empty, *(at for _, _, _, at in batches)])
    inside = seconds < timeline.end_seconds
    order = np.lexsort((event_type[inside], recipient[inside], seconds[inside]))
    unsubscribed_by_contact = np.full(identities.contacts.person.size, NEVER, dtype=np.int64)
    unsubscribed_by_contact[contact] = unsubscribed
    return MarketingEvents(
        contact=contact[recipient[inside][order]],
        campaign=campaign_of[inside][order],
        event_type=event_type[inside][order],
        seconds=seconds[inside][order],
        campaign_ids=tuple(
            f"CMP-{(timeline.start + timedelta(days=send // SECONDS_PER_DAY)).isoformat()}" for send in sends
        ),
        unsubscribed=unsubscribed_by_contact,
    )
