"""Normalising and pseudonymising personal identifiers before they leave the raw layer.

E-mails and phone numbers are the keys that join one person across the shop, the stores and the CRM, so
they must compare equal however a system spelled them; and they are personal data, so everything past
the raw layer sees only a keyed hash (HMAC-SHA256). A plain hash of an e-mail can be reversed by hashing
a list of known addresses; a keyed one cannot without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

PII_KEY_ENV = "CLIENTELE_PII_KEY"
# Development default only: anyone can read it here, so hashes made with it protect nothing.
DEVELOPMENT_PII_KEY = "clientele-development-key-do-not-use-in-production"

_NON_DIGITS = re.compile(r"\D")


def pii_key() -> bytes:
    """The HMAC key from the environment, or the marked development default."""
    return os.environ.get(PII_KEY_ENV, DEVELOPMENT_PII_KEY).encode()


def normalise_email(value: str | None) -> str | None:
    """Lower-cased, trimmed e-mail; None for blank or for text that is not an address."""
    if value is None:
        return None
    email = value.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or " " in email:
        return None
    return email


def normalise_phone(value: str | None, default_country_code: str = "1") -> str | None:
    """E.164 form (`+15551234567`); None when the digits cannot be a phone number.

    Numbers without a country code are taken to be in `default_country_code` (the demo shop is in
    North America, where national numbers have ten digits).
    """
    if value is None:
        return None
    raw = value.strip()
    digits = _NON_DIGITS.sub("", raw)
    if raw.startswith("+") or raw.startswith("00"):
        digits = digits[2:] if raw.startswith("00") else digits
        return f"+{digits}" if 8 <= len(digits) <= 15 else None
    if len(digits) == 10:
        return f"+{default_country_code}{digits}"
    if len(digits) == 11 and digits.startswith(default_country_code):
        return f"+{digits}"
    return None


def keyed_hash(normalised: str | None, key: bytes) -> str | None:
    """Hex HMAC-SHA256 of an already normalised identifier; None stays None."""
    if normalised is None:
        return None
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


def pseudonymise(column: str, values: list[str | None], key: bytes) -> list[str | None]:
    """Keyed hashes for one PII column, normalised by what the column holds (e-mail or phone)."""
    normalise = normalise_phone if "phone" in column else normalise_email
    return [keyed_hash(normalise(v), key) for v in values]
