"""Identity keys (sources/pii.py): spellings a person would call the same address or number hash the same.

The unit tests pin the normalisation; the last tests load real JSON lines through the raw layer and
compare the stored keyed hashes, which is what identity resolution joins on.
"""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import pytest
from landing_fixture import KEY, assert_accounted, warehouse, write_jsonl

from sources.contracts import CONTACTS
from sources.landing import read_landing_file
from sources.pii import keyed_hash, normalise_email, normalise_phone, pseudonymise
from sources.raw_tables import load_window

DAY = date(2024, 3, 1)

# E-mails


@pytest.mark.parametrize(
    "spelling",
    [
        "josé.garcía@example.com",
        unicodedata.normalize("NFD", "josé.garcía@example.com"),  # macOS and some CRMs decompose accents
        "José.García@Example.COM",
        unicodedata.normalize("NFD", " JOSÉ.GARCÍA@EXAMPLE.COM\u00a0"),
        "ｊｏｓé.ｇａｒｃíａ＠ｅｘａｍｐｌｅ．ｃｏｍ",  # fullwidth, as typed with an East Asian input method
        "jos\u200bé.garcía@example.com\ufeff",  # zero-width space and a stray byte-order mark
        "\u3000josé.garcía@example.com\t",
    ],
)
def test_emails_that_read_the_same_normalise_the_same(spelling: str) -> None:
    assert normalise_email(spelling) == "josé.garcía@example.com"


def test_emails_are_casefolded_not_only_lower_cased() -> None:
    # casefold is Unicode's caseless match: ß and ss, final and medial sigma are one spelling.
    assert (
        normalise_email("Straße@Example.de") == normalise_email("STRASSE@example.de") == "strasse@example.de"
    )
    assert normalise_email("ΟΔΥΣΣΕΥΣ@example.gr") == normalise_email("οδυσσευς@example.gr")


def test_an_internationalised_domain_in_punycode_is_the_same_domain() -> None:
    assert normalise_email("jane@xn--bcher-kva.de") == normalise_email("Jane@Bücher.de") == "jane@bücher.de"
    assert normalise_email("jane@xn--invalid-.de") == "jane@xn--invalid-.de"  # not punycode: kept as sent


@pytest.mark.parametrize(
    "not_an_address",
    [
        "",
        "   ",
        "\u00a0",
        "jane",
        "jane@",
        "@example.com",
        "jane@example",
        "jane doe@example.com",
        "jane@exa\u00a0mple.com",
        "jane@doe@example.com",
        None,
    ],
)
def test_text_that_is_not_an_address_has_no_identity(not_an_address: str | None) -> None:
    assert normalise_email(not_an_address) is None


def test_ascii_emails_normalise_as_before() -> None:
    # Hashes of plain ASCII addresses do not change with the Unicode rules (no identity link moves).
    for spelling in ["jane.doe@example.com", " Jane.Doe@Example.COM ", "JANE.DOE@EXAMPLE.COM\t"]:
        assert normalise_email(spelling) == "jane.doe@example.com"


# Phone numbers


@pytest.mark.parametrize(
    "spelling",
    [
        "+49 30 1234567",
        "+49 (0)30 1234567",  # the trunk prefix written in brackets, as German and British cards do
        "+49 (0) 30 / 123 45 67",
        "+49 030 1234567",
        "0049 30 1234567",
        "0049 (0)30-1234567",
        "(+49) 30 1234567",
        "+４９ ３０ １２３４５６７",  # fullwidth digits and plus
        "+٤٩ ٣٠ ١٢٣٤٥٦٧",  # Arabic-Indic digits
        "+۴۹ ۳۰ ۱۲۳۴۵۶۷",  # Extended Arabic-Indic (Persian) digits
        "+४९ ३० १२३४५६७",  # Devanagari digits
        "\u202a+49 30 1234567\u202c",  # wrapped in bidirectional marks
    ],
)
def test_phone_spellings_of_one_international_number_normalise_the_same(spelling: str) -> None:
    assert normalise_phone(spelling) == "+49301234567"


@pytest.mark.parametrize(
    ("spelling", "country", "expected"),
    [
        ("030 1234567", "49", "+49301234567"),  # a national number: trunk 0 dropped, country code added
        ("030 / 123 45 67", "49", "+49301234567"),
        ("０３０ １２３４５６７", "49", "+49301234567"),
        ("020 7946 0958", "44", "+442079460958"),
        ("+44 (0)20 7946 0958", "1", "+442079460958"),
        ("30 1234567", "49", None),  # no trunk prefix: a local number without its area code
        ("011 49 30 1234567", "1", "+49301234567"),  # North America's international prefix
        ("+39 06 1234 5678", "1", "+390612345678"),  # Italy keeps the 0: it is part of the number
        ("06 1234 5678", "39", "+390612345678"),
        ("333 123 4567", "39", "+393331234567"),  # an Italian mobile has no 0 at all
        ("(555) 123-4567", "1", "+15551234567"),
        ("1-555-123-4567", "1", "+15551234567"),
        ("+1 555 123 4567", "49", "+15551234567"),
        ("+49", "1", None),
        ("0", "49", None),
    ],
)
def test_phone_numbers_by_country(spelling: str, country: str, expected: str | None) -> None:
    assert normalise_phone(spelling, default_country_code=country) == expected


def test_national_numbers_take_the_configured_country() -> None:
    hashes = pseudonymise("phone", ["030 1234567", "+49 (0)30 1234567"], KEY, phone_country_code="49")
    assert hashes[0] == hashes[1] == keyed_hash("+49301234567", KEY)


# Through the raw layer


def test_unicode_spellings_share_a_hash_in_the_raw_layer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = {"created_at": "2024-03-01T09:00:00", "updated_at": "2024-03-01T09:00:00"}
    spellings = [
        ("josé@example.com", "+49 30 1234567"),
        (unicodedata.normalize("NFD", "José@Example.com"), "+49 (0)30 1234567"),
        ("ｊｏｓé＠ｅｘａｍｐｌｅ．ｃｏｍ", "+٤٩ ٣٠ ١٢٣٤٥٦٧"),
    ]
    write_jsonl(
        CONTACTS,
        tmp_path,
        DAY,
        *({**base, "contact_id": f"C{i}", "email": e, "phone": p} for i, (e, p) in enumerate(spellings)),
    )
    con = warehouse(tmp_path)
    batch = read_landing_file(CONTACTS, CONTACTS.file_for(tmp_path, DAY), DAY)
    result = load_window(con, CONTACTS, [batch], DAY, DAY + timedelta(days=1), KEY)
    assert_accounted(con, CONTACTS, result, 3)
    assert con.execute("select distinct email_hash, phone_hash from raw.crm_contacts").fetchall() == [
        (keyed_hash("josé@example.com", KEY), keyed_hash("+49301234567", KEY))
    ]
    # The raw values stay as sent; only the hashes are normalised.
    raw = [e for (e,) in con.execute("select email from raw.crm_contacts order by contact_id").fetchall()]
    assert raw == [e for e, _ in spellings]


def test_the_deployments_phone_country_reads_national_numbers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # a German shop's contacts write national numbers; with identity.phone_country_code 49 they are the
    # same person as the international spelling
    base = {"created_at": "2024-03-01T09:00:00", "updated_at": "2024-03-01T09:00:00"}
    phones = ["030 1234567", "+49 30 1234567"]
    write_jsonl(
        CONTACTS, tmp_path, DAY, *({**base, "contact_id": f"C{i}", "phone": p} for i, p in enumerate(phones))
    )
    con = warehouse(tmp_path)
    batch = read_landing_file(CONTACTS, CONTACTS.file_for(tmp_path, DAY), DAY)
    load_window(con, CONTACTS, [batch], DAY, DAY + timedelta(days=1), KEY, phone_country_code="49")
    assert con.execute("select distinct phone_hash from raw.crm_contacts").fetchall() == [
        (keyed_hash("+49301234567", KEY),)
    ]
