"""Normalising and pseudonymising personal identifiers before they leave the raw layer.

E-mails and phone numbers are the keys that join one person across the shop, the stores and the CRM, so
they must compare equal however a system spelled them (case, Unicode form, fullwidth or Arabic-Indic
digits, a trunk prefix); and they are personal data, so everything past the raw layer sees only a keyed
hash (HMAC-SHA256). A plain hash of an e-mail can be reversed by hashing a list of known addresses; a
keyed one cannot without the key.

Changing a rule here changes the hashes of the spellings it touches: raw rows loaded before keep their
old hashes until their days are loaded again (docs/sources.md, "Identity keys").
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import unicodedata

PII_KEY_ENV = "CLIENTELE_PII_KEY"
# Development default only: anyone can read it here, so hashes made with it protect nothing.
DEVELOPMENT_PII_KEY = "clientele-development-key-do-not-use-in-production"

_NOT_PHONE_CHARACTERS = re.compile(r"[^0-9+]")
# Country calling codes are prefix-free: 1 and 7 are one digit, these 44 two, every other one three.
_TWO_DIGIT_COUNTRY_CODES = frozenset(
    str(code)
    for codes in (
        (20, 27, *range(30, 35), 36, 39, 40, 41, *range(43, 50), *range(51, 59), *range(60, 67)),
        (81, 82, 84, 86, *range(90, 96), 98),
    )
    for code in codes
)
# Where a leading 0 of the national number is part of it rather than a trunk prefix: Italy, San Marino,
# the Vatican, Côte d'Ivoire, the Republic of the Congo (+39 06 ... is dialled with its 0).
_LEADING_ZERO_KEPT = frozenset({"39", "378", "379", "225", "242"})
NORTH_AMERICA = "1"  # national numbers have ten digits and the trunk prefix 1; international prefix 011


def pii_key() -> bytes:
    """The HMAC key from the environment, or the marked development default."""
    return os.environ.get(PII_KEY_ENV, DEVELOPMENT_PII_KEY).encode()


def _without_format_characters(text: str) -> str:
    """`text` without invisible format characters (zero-width spaces, byte-order marks, direction marks)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _unicode_domain(domain: str) -> str:
    """A domain with its punycode labels (`xn--bcher-kva`) in Unicode (`bücher`); others as they are."""
    labels = []
    for label in domain.split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError):  # not valid punycode: compared as written
                label = label.encode("ascii").decode("idna")
        labels.append(label)
    return unicodedata.normalize("NFKC", ".".join(labels)).casefold()


def normalise_email(value: str | None) -> str | None:
    """The address as people mean it: NFKC-normalised, casefolded and trimmed; None for blank or for text
    that is not an address (no single @, no dot in the domain, white space inside).

    NFKC makes composed and decomposed accents, fullwidth letters and `＠` one spelling; casefolding is
    Unicode's caseless match (`ß` is `ss`). Invisible format characters are dropped and punycode domains
    read in Unicode. Plain ASCII addresses are only trimmed and lower-cased, as they always were.
    """
    if value is None:
        return None
    if value.isascii():
        email = value.strip().lower()
    else:
        text = unicodedata.normalize("NFKC", _without_format_characters(value))
        email = unicodedata.normalize("NFKC", text.casefold()).strip()
    local, at, domain = email.partition("@")
    if not at or not local or "@" in domain or "." not in domain or any(ch.isspace() for ch in email):
        return None
    if "xn--" in domain:
        domain = _unicode_domain(domain)
    return f"{local}@{domain}"


def _phone_characters(value: str) -> str:
    """The `+` and the digits of a phone number, digits of any script as ASCII (`４`, `٤`, `४` are `4`)."""
    if value.isascii():
        return _NOT_PHONE_CHARACTERS.sub("", value)
    text = unicodedata.normalize("NFKC", value)  # fullwidth `＋` is `+`
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text if ch.isdecimal() or ch == "+"
    )


def _country_code(digits: str) -> str:
    """The country calling code at the start of an international number's digits."""
    if digits[:1] in ("1", "7"):
        return digits[:1]
    return digits[:2] if digits[:2] in _TWO_DIGIT_COUNTRY_CODES else digits[:3]


def _e164(country_code: str, national: str) -> str | None:
    """`+<country code><national number>`, the trunk prefix 0 dropped where it is one; None when the
    digits cannot be a phone number (E.164 numbers have 8 to 15 digits)."""
    if national.startswith("0") and country_code not in _LEADING_ZERO_KEPT:
        national = national[1:]
    digits = country_code + national
    return f"+{digits}" if 8 <= len(digits) <= 15 and national else None


def normalise_phone(value: str | None, default_country_code: str = NORTH_AMERICA) -> str | None:
    """E.164 form (`+4930123456`); None when the digits cannot be a phone number.

    Punctuation and spaces are ignored and digits of any script count. An international number (`+`,
    `00`, or `011` in North America) loses the trunk prefix after its country code (`+49 (0)30 ...` is
    `+49 30 ...`). A national number is in `default_country_code`: in North America ten digits (with an
    optional leading 1); elsewhere it must start with the trunk prefix 0, which is dropped (kept in Italy
    and the few other countries where it is part of the number).
    """
    if value is None:
        return None
    characters = _phone_characters(value)
    international = characters.startswith("+")
    digits = characters.replace("+", "")
    if not international:
        for prefix in ("00", "011") if default_country_code == NORTH_AMERICA else ("00",):
            if digits.startswith(prefix):
                international, digits = True, digits[len(prefix) :]
                break
    if international:
        country_code = _country_code(digits)
        return _e164(country_code, digits[len(country_code) :])
    if default_country_code == NORTH_AMERICA:
        national = digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
        return f"+1{national}" if len(national) == 10 else None
    if digits.startswith("0") or default_country_code in _LEADING_ZERO_KEPT:
        return _e164(default_country_code, digits)
    return None  # no trunk prefix: a local number without its area code


def keyed_hash(normalised: str | None, key: bytes) -> str | None:
    """Hex HMAC-SHA256 of an already normalised identifier; None stays None."""
    if normalised is None:
        return None
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


def pseudonymise(
    column: str, values: list[str | None], key: bytes, phone_country_code: str = NORTH_AMERICA
) -> list[str | None]:
    """Keyed hashes for one PII column, normalised by what the column holds (e-mail or phone); national
    phone numbers are taken to be in `phone_country_code`."""
    if "phone" in column:
        return [keyed_hash(normalise_phone(v, phone_country_code), key) for v in values]
    return [keyed_hash(normalise_email(v), key) for v in values]
