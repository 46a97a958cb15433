"""Issue 19, second pass: national numbers of more countries with their checksums, ages in words and
other languages, more birth-date forms, log logins and chat speakers, building numbers before a
street, towns in capitals. Tables of (text, expected values); recognizers run alone (no spaCy)."""

from __future__ import annotations

import pytest

from enclave_core.redaction import id_checksums as checks
from enclave_core.redaction.handles import AccountHandleRecognizer
from enclave_core.redaction.identifiers import NationalIdRecognizer
from enclave_core.redaction.recognizers import (
    AgeRecognizer,
    DateOfBirthRecognizer,
    StreetAddressRecognizer,
    UpperCasePlaceRecognizer,
    with_building_number,
)


def _values(recognizer: object, text: str, entity: str) -> list[str]:
    found = recognizer.analyze(text, [entity], None)  # type: ignore[attr-defined]
    return sorted(text[r.start : r.end] for r in found if r.score >= 0.4)


# (validator, valid value, the same value with one digit changed)
CHECKSUMS = [
    (checks.valid_ch_ahv, "756.1234.5678.97", "756.1234.5678.98"),
    (checks.valid_be_nn, "85.07.30-033.28", "85.07.30-033.29"),
    (checks.valid_at_svnr, "1237 010180", "1238 010180"),
    (checks.valid_ie_ppsn, "1234567T", "1234567A"),
    (checks.valid_pt_nif, "123456789", "123456788"),
    (checks.valid_ro_cnp, "1800101221144", "1800101221145"),
    (checks.valid_tr_tckn, "10000000146", "10000000147"),
    (checks.valid_za_id, "8001015009087", "8001015009088"),
    (checks.valid_il_id, "123456782", "123456783"),
    (checks.valid_sg_nric, "S1234567D", "S1234567E"),
    (checks.valid_au_tfn, "123456782", "123456783"),
    (checks.valid_au_medicare, "2123456701", "2123456711"),
    (checks.valid_cl_rut, "12.345.678-5", "12.345.678-6"),
    (checks.valid_hr_oib, "69435151530", "69435151531"),
    (checks.valid_cz_birth_number, "736028/5163", "736028/5164"),
    (checks.valid_ee_personal_code, "37605030299", "37605030298"),
    (checks.valid_bg_egn, "7523169263", "7523169264"),
    (checks.valid_is_kennitala, "120174-3399", "120174-3389"),
]


@pytest.mark.parametrize(("check", "good", "bad"), CHECKSUMS)
def test_checksums(check: object, good: str, bad: str) -> None:
    assert check(good) is True  # type: ignore[operator]
    assert check(bad) is False  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AHV-Nr. 756.1234.5678.97", ["756.1234.5678.97"]),
        ("Versichertennummer 756.1234.5678.97 liegt vor", ["756.1234.5678.97"]),  # bare: 756 + EAN check
        ("Rijksregisternummer: 85.07.30-033.28", ["85.07.30-033.28"]),
        ("SVNR 1237 010180", ["1237 010180"]),
        ("PPSN: 1234567T", ["1234567T"]),
        ("NIF 123456789 (contribuinte)", ["123456789"]),
        ("CNP: 1800101221144", ["1800101221144"]),
        ("T.C. Kimlik No: 10000000146", ["10000000146"]),
        ("NRIC S1234567D", ["S1234567D"]),
        ("Tax file number 123 456 782", ["123 456 782"]),
        ("RUT 12.345.678-5", ["12.345.678-5"]),
        ("OIB: 69435151530", ["69435151530"]),
        ("rodné číslo 736028/5163", ["736028/5163"]),
        ("Isikukood 37605030299", ["37605030299"]),
        ("EGN 7523169263", ["7523169263"]),
        ("kennitala 120174-3399", ["120174-3399"]),
        ("CURP: GOMC850101HDFRRL09", ["GOMC850101HDFRRL09"]),
        # look-alikes without a keyword stay
        ("Invoice 123456789 was paid", []),
        ("Order 1800101221144 shipped", []),
        ("Tracking 8001015009087", []),
    ],
)
def test_more_national_ids(text: str, expected: list[str]) -> None:
    assert _values(NationalIdRecognizer(), text, "NATIONAL_ID") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He is thirty-two years old.", ["thirty-two"]),
        ("a seven-year-old boy", ["seven"]),
        ("She was aged forty when she moved.", ["forty"]),
        ("Alter: 46", ["46"]),
        ("âge : 52 ans", ["52"]),
        ("edad: 33", ["33"]),
        ("Version: 46", []),
        ("Age: 39y", ["39"]),
        ("im Alter von 39 Jahren", ["39"]),
        ("j'ai 39 ans", ["39"]),
        ("tengo 39 años", ["39"]),
        ("Han er 39 år gammel.", ["39"]),
        ("Hij is 39 jaar oud.", ["39"]),
        ("Build 39 yesterday", []),
    ],
)
def test_ages_in_words_and_labels(text: str, expected: list[str]) -> None:
    assert _values(AgeRecognizer(), text, "AGE") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She was born on the 4th of July, 1990.", ["4th of July, 1990"]),
        ("Date of birth (dd/mm/yyyy): 14/03/1987", ["14/03/1987"]),
        ("Jane Doe (b. 1961) chaired the board", ["1961"]),
        ("year of birth: 1979", ["1979"]),
        ("DOB 12-Mar-1984, seen today.", ["12-Mar-1984"]),
        ("12 March 1984 (DOB)", ["12 March 1984"]),
        ("Date of birth: 1984", ["1984"]),
        ("Her birthday is on 12 March", ["12 March"]),
        ("Released 12-Mar-2024 with fixes", []),
        ("The bridge was built in 1961", []),
        ("Meeting on 4 July 1990 in Geneva", []),
    ],
)
def test_more_birth_date_forms(text: str, expected: list[str]) -> None:
    assert _values(DateOfBirthRecognizer(), text, "DATE_OF_BIRTH") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("May  2 09:01:13 gw01 sshd[22817]: Accepted publickey for dkowalski from 10.0.0.7 port 51544", ["dkowalski"]),
        ("May  2 09:01:13 gw01 sshd[1]: pam_unix(sshd:session): session opened for user jlee(uid=1004)", ["jlee"]),
        ("May  2 09:01:13 gw01 sshd[1]: Accepted password for root from 10.0.0.7", []),
        ("2024-05-02T09:01:13Z app[3]: login=svc_backup ok", []),
        ("We bought a laptop for user onboarding.", []),  # prose, not a log line
        ("[09:14] ravi: done", ["ravi"]),
        ("maria: sure, whats your employee id?", ["maria"]),
        ("[10:02] customer: hi my order never arrived", []),
        ("agent: thanks", []),
        ("Note: the office is closed", []),
    ],
)
def test_logins_and_chat_speakers(text: str, expected: list[str]) -> None:
    assert _values(AccountHandleRecognizer(), text, "PERSON") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The bus drops you off at 13813 3784 Archwood Avenue", ["13813 3784 Archwood Avenue"]),
        ("0104 Hafnarstraeti 5\n Suite 179", ["0104 Hafnarstraeti 5\n Suite 179"]),
        ("She lives at Vesturgata 12, 101 Reykjavík", ["Vesturgata 12, 101 Reykjavík"]),
        ("The parcel went to Karl Johans gate 22 instead.", ["Karl Johans gate 22"]),
        ("We met at Odins vei 3, 0266 Oslo", ["Odins vei 3, 0266 Oslo"]),
    ],
)
def test_more_street_shapes(text: str, expected: list[str]) -> None:
    assert _values(StreetAddressRecognizer(), text, "STREET_ADDRESS") == expected


@pytest.mark.parametrize(
    ("text", "start", "moved"),
    [
        ("at 20789 Allika 46", 9, 3),  # the building number joins the address
        ("in 2019, Allika 46", 9, 9),  # a comma before: no building number
        ("room 12/ Allika 46", 9, 9),
    ],
)
def test_building_number_before_an_address(text: str, start: int, moved: int) -> None:
    assert with_building_number(text, start) == moved


def test_a_listed_town_in_capitals_counts_even_when_it_is_a_word() -> None:
    recognizer = UpperCasePlaceRecognizer(frozenset({"helsinki", "addition"}))
    assert _values(recognizer, "He grew up in HELSINKI.", "LOCATION") == ["HELSINKI"]
    assert _values(recognizer, "Sent in ADDITION to the rest.", "LOCATION") == []


def test_a_bracketed_qualifier_is_part_of_the_country() -> None:
    from enclave_core.redaction.recognizers import PlaceNameRecognizer

    assert _values(PlaceNameRecognizer(), "We moved here from Cyprus (Greek)", "LOCATION") == ["Cyprus (Greek)"]
    assert _values(PlaceNameRecognizer(), "France (see above)", "LOCATION") == ["France"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the statement to uscgc aslakhanov\nfpo ae 44941?", ["uscgc aslakhanov\nfpo ae 44941"]),
        ("Unit 8524 Box 0979\nDPO AA 56703", ["Unit 8524 Box 0979\nDPO AA 56703"]),
        (
            "It's in the corner of 35 Pentelis Str. and Waechter Turnpike",
            ["the corner of 35 Pentelis Str. and Waechter Turnpike"],
        ),
        ("Juliusz lives at 28919 136 Filadelfeos Str., Klirou", ["28919 136 Filadelfeos Str., Klirou"]),
        ("The USS Enterprise was a ship.", []),
    ],
)
def test_military_mail_corners_and_abbreviated_streets(text: str, expected: list[str]) -> None:
    assert _values(StreetAddressRecognizer(), text, "STREET_ADDRESS") == expected


@pytest.mark.parametrize(
    ("text", "start", "end", "entity", "lookalike"),
    [
        ("2016–2019     Analyst, Intesa Sanpaolo", 0, 9, "PHONE_NUMBER", True),
        ("Our VAT number is GB 123 4567 89 and", 21, 32, "PHONE_NUMBER", True),
        ("Call me on 020 7946 0958 today", 11, 24, "PHONE_NUMBER", False),
    ],
)
def test_year_ranges_and_prefixed_vat_numbers_are_no_phones(
    text: str, start: int, end: int, entity: str, lookalike: bool
) -> None:
    from enclave_core.redaction.lookalikes import is_lookalike

    assert is_lookalike(text, start, end, entity) is lookalike


def test_software_products_are_brands() -> None:
    from enclave_core.redaction.companies import names_a_brand

    assert names_a_brand("Kubernetes, Terraform")
    assert not names_a_brand("Jenkins")
