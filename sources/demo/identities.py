"""Where each person shows up: web account, CRM contacts (some duplicated), loyalty card, e-mail and phone.

Nobody is in every system. A person's e-mail address and US phone number are unique to them, but each
system spells them its own way: e-mails differ in case and surrounding whitespace, phones in format.
Those spellings are kept here, `len(spellings) * n` long, so a record picks one per row by code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sources.demo import text
from sources.demo.population import Population
from sources.demo.timeline import SECONDS_PER_DAY, Timeline, to_seconds

FIRST_NAMES = (
    "james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "william", "elizabeth",
    "david", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah", "charles", "karen",
    "daniel", "nancy", "matthew", "lisa", "anthony", "betty", "mark", "sandra", "paul", "ashley",
    "steven", "emily", "andrew", "donna", "joshua", "michelle", "kevin", "carol", "brian", "amanda",
    "george", "melissa", "timothy", "deborah", "ronald", "stephanie", "jason", "rebecca", "ryan", "laura",
    "jacob", "sharon", "gary", "cynthia", "nicholas", "kathleen", "eric", "amy", "jonathan", "angela",
)  # fmt: skip
LAST_NAMES = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez",
    "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson", "martin",
    "lee", "perez", "thompson", "white", "harris", "sanchez", "clark", "ramirez", "lewis", "robinson",
    "walker", "young", "allen", "king", "wright", "scott", "torres", "nguyen", "hill", "flores",
    "green", "adams", "nelson", "baker", "hall", "rivera", "campbell", "mitchell", "carter", "roberts",
    "gomez", "phillips", "evans", "turner", "diaz", "parker", "cruz", "edwards", "collins", "reyes",
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
# 'jane.doe123@example.com', 'Jane.Doe123@Example.com', 'JANE.DOE123@EXAMPLE.COM', ' Jane.Doe123@Example.com '
EMAIL_SPELLINGS = ("canonical", "capitalised", "upper_case", "padded")
EMAIL_SPELLING_SHARES = (0.55, 0.20, 0.10, 0.15)
# '+1 555 123 4567', '(555) 123-4567', '555.123.4567', '5551234567'
PHONE_FORMATS = ("international", "parenthesised", "dotted", "digits_only")
PHONE_FORMAT_SHARES = (0.30, 0.30, 0.20, 0.20)

NEVER = np.iinfo(np.int64).max  # seconds of an event that does not happen
PHONE_SHARE = 0.80
ACCOUNT_SHARE = 0.88
DUPLICATE_CONTACT_SHARE = 0.02
DUPLICATE_CONTACT_DELAY_DAYS = (30, 400)
CONTACT_AT_ACQUISITION_SHARE = 0.5  # the rest are created up to CONTACT_DELAY_MAX_DAYS later
CONTACT_DELAY_MAX_DAYS = 60
CARD_AT_CONTACT_SHARE = 0.7  # the rest enrol up to CARD_DELAY_MAX_DAYS after the contact
CARD_DELAY_MAX_DAYS = 200
CARD_UPGRADE_SHARE = 0.5  # silver and gold members who started one tier lower
ACCOUNT_PHONE_AT_SIGNUP_SHARE = 0.6
ACCOUNT_PHONE_ADDED_LATER_SHARE = 0.3
# US numbers from area code 201 up, exchange 200-999: an affine bijection of the person number makes
# each person's number unique while looking random.
_PHONE_SPACE = 790 * 800 * 10_000
_PHONE_MULTIPLIER = 2_654_435_761  # prime, so coprime to _PHONE_SPACE


@dataclass(frozen=True)
class Contacts:
    """CRM contacts in creation order (contact number = index + 1); duplicates are extra contacts of a person."""

    person: np.ndarray
    created: np.ndarray  # seconds since start
    duplicate: np.ndarray  # bool


@dataclass(frozen=True)
class Identities:
    """Per person (index = person number) identifiers and when they came into being, in seconds since start."""

    emails: pa.Array  # spelling s of person p at s * n + p
    phones: pa.Array  # format f of person p at f * n + p
    has_phone: np.ndarray
    account_number: np.ndarray  # 0-based, -1 without a web account; created at acquisition
    account_phone_since: np.ndarray  # when the account first holds the phone, NEVER if it never does
    contacts: Contacts
    primary_contact: np.ndarray  # index into contacts, -1 without a contact
    card_number: np.ndarray  # 0-based, -1 without a loyalty card
    card_enrolled: np.ndarray  # NEVER without a card
    card_initial_tier: np.ndarray  # tier code at enrolment (0 without a card)
    card_upgraded: np.ndarray  # when the card reached the person's final tier, NEVER if it started there

    @property
    def size(self) -> int:
        return int(self.account_number.size)

    def email(self, person: np.ndarray, spelling: np.ndarray) -> pa.Array:
        return pc.take(self.emails, pa.array(spelling.astype(np.int64) * self.size + person))

    def phone(self, person: np.ndarray, phone_format: np.ndarray) -> pa.Array:
        return pc.take(self.phones, pa.array(phone_format.astype(np.int64) * self.size + person))


def _names(rng: np.random.Generator, n: int) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """Lower-case first names, last names, unique numbers and domains of `n` people."""
    first = text.labels(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), size=n))
    last = text.labels(LAST_NAMES, rng.integers(0, len(LAST_NAMES), size=n))
    number = text.integers(rng.permutation(n) + 1)
    domain = text.labels(EMAIL_DOMAINS, rng.integers(0, len(EMAIL_DOMAINS), size=n))
    return first, last, number, domain


def _email_spellings(rng: np.random.Generator, n: int) -> pa.Array:
    first, last, number, domain = _names(rng, n)
    canonical = text.concat(first, ".", last, number, "@", domain)
    capitalised = text.concat(
        pc.utf8_capitalize(first), ".", pc.utf8_capitalize(last), number, "@", pc.utf8_capitalize(domain)
    )
    spellings = {
        "canonical": canonical,
        "capitalised": capitalised,
        "upper_case": pc.utf8_upper(canonical),
        "padded": text.concat(" ", capitalised, " "),
    }
    return pa.concat_arrays([spellings[name] for name in EMAIL_SPELLINGS])


def _phone_formats(rng: np.random.Generator, n: int) -> pa.Array:
    offset = int(rng.integers(0, _PHONE_SPACE))
    slot = (np.arange(n, dtype=np.int64) * _PHONE_MULTIPLIER + offset) % _PHONE_SPACE
    area = text.integers(201 + slot // 8_000_000)
    exchange = text.integers(200 + slot // 10_000 % 800)
    line = text.ids("", slot % 10_000, 4)
    formats = {
        "international": text.concat("+1 ", area, " ", exchange, " ", line),
        "parenthesised": text.concat("(", area, ") ", exchange, "-", line),
        "dotted": text.concat(area, ".", exchange, ".", line),
        "digits_only": text.concat(area, exchange, line),
    }
    return pa.concat_arrays([formats[name] for name in PHONE_FORMATS])


def _numbered_by_time(member: np.ndarray, created: np.ndarray) -> np.ndarray:
    """0-based numbers for members in order of creation (ties by person), -1 for non-members."""
    people = np.flatnonzero(member)
    numbers = np.full(member.size, -1, dtype=np.int64)
    numbers[people[np.lexsort((people, created[people]))]] = np.arange(people.size)
    return numbers


def _uniform_between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return low + (rng.random(low.size) * (high - low)).astype(np.int64)


def assign_identities(population: Population, timeline: Timeline, rng: np.random.Generator) -> Identities:
    """Decide each person's accounts, contacts and card, and when each was created."""
    n = population.size
    acquired = to_seconds(population.acquired)
    end = timeline.end_seconds
    has_phone = rng.random(n) < PHONE_SHARE

    has_account = rng.random(n) < ACCOUNT_SHARE
    phone_at_signup = has_phone & (rng.random(n) < ACCOUNT_PHONE_AT_SIGNUP_SHARE)
    phone_later = has_phone & ~phone_at_signup & (rng.random(n) < ACCOUNT_PHONE_ADDED_LATER_SHARE)
    phone_added = _uniform_between(rng, np.maximum(acquired, 0), np.full(n, end))
    account_phone_since = np.where(
        has_account & phone_at_signup, acquired, np.where(has_account & phone_later, phone_added, NEVER)
    )

    contact_delay = np.where(
        rng.random(n) < CONTACT_AT_ACQUISITION_SHARE,
        rng.random(n) * 1800,  # within half an hour of the first purchase
        rng.random(n) * CONTACT_DELAY_MAX_DAYS * SECONDS_PER_DAY,
    ).astype(np.int64)
    contact_created = acquired + contact_delay
    duplicated = population.has_contact & (rng.random(n) < DUPLICATE_CONTACT_SHARE)
    low, high = DUPLICATE_CONTACT_DELAY_DAYS
    duplicate_created = contact_created + (rng.uniform(low, high, size=n) * SECONDS_PER_DAY).astype(np.int64)
    contact_person = np.concatenate([np.flatnonzero(population.has_contact), np.flatnonzero(duplicated)])
    contact_created_all = np.concatenate(
        [contact_created[population.has_contact], duplicate_created[duplicated]]
    )
    is_duplicate = np.arange(contact_person.size) >= int(population.has_contact.sum())
    order = np.lexsort((is_duplicate, contact_person, contact_created_all))
    contacts = Contacts(
        person=contact_person[order], created=contact_created_all[order], duplicate=is_duplicate[order]
    )
    primary_contact = np.full(n, -1, dtype=np.int64)
    primaries = np.flatnonzero(~contacts.duplicate)
    primary_contact[contacts.person[primaries]] = primaries

    member = population.loyalty_tier > 0
    card_delay = np.where(
        rng.random(n) < CARD_AT_CONTACT_SHARE,
        rng.random(n) * 600,
        rng.random(n) * CARD_DELAY_MAX_DAYS * SECONDS_PER_DAY,
    ).astype(np.int64)
    card_enrolled = np.where(member, contact_created + card_delay, NEVER)
    upgraded = (
        member & (population.loyalty_tier >= 2) & (card_enrolled < end) & (rng.random(n) < CARD_UPGRADE_SHARE)
    )
    upgrade_time = _uniform_between(rng, np.maximum(np.where(member, card_enrolled, 0), 0), np.full(n, end))
    card_upgraded = np.where(upgraded & (upgrade_time > card_enrolled), upgrade_time, NEVER)
    card_initial_tier = np.where(card_upgraded < NEVER, population.loyalty_tier - 1, population.loyalty_tier)

    return Identities(
        emails=_email_spellings(rng, n),
        phones=_phone_formats(rng, n),
        has_phone=has_phone,
        account_number=_numbered_by_time(has_account, acquired),
        account_phone_since=account_phone_since,
        contacts=contacts,
        primary_contact=primary_contact,
        card_number=_numbered_by_time(member, card_enrolled),
        card_enrolled=card_enrolled,
        card_initial_tier=card_initial_tier,
        card_upgraded=card_upgraded,
    )
