"""Issue 19's recognizers, as tables of (text, expected spans): e-mail on any domain, national numbers
with their checksums, passports and organisation ids by context, admin-declared identifier patterns,
dates of birth, table columns and business-number look-alikes.

Recognizer tables run the recognizer alone (no spaCy); the last tables run the shipped Redactor.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from enclave_core.errors import PolicyError
from enclave_core.policy import policies_dir
from enclave_core.redaction import Redactor
from enclave_core.redaction.companies import names_a_brand
from enclave_core.redaction.identifiers import (
    ID_SPECS,
    NationalIdRecognizer,
    OrgIdRecognizer,
    PassportRecognizer,
    valid_bsn,
    valid_cn_id,
    valid_cpf,
    valid_dk_cpr,
    valid_fr_nir,
    valid_my_number,
    valid_no_fnr,
)
from enclave_core.redaction.lookalikes import is_lookalike
from enclave_core.redaction.policy import load_redaction_policy
from enclave_core.redaction.recognizers import (
    LOCALITY_AFTER_STREET,
    AgeRecognizer,
    AnyDomainEmailRecognizer,
    CardNearKeywordRecognizer,
    CjkNameRecognizer,
    DateOfBirthRecognizer,
    ExtraPhoneRecognizer,
    LowerCaseIbanRecognizer,
    StreetAddressRecognizer,
    UpperCasePlaceRecognizer,
)
from enclave_core.redaction.tables import TableColumnRecognizer, column_entity


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    r = Redactor.from_policy_file(policies_dir() / "redaction.yaml")
    r.warm_up()
    return r


def _values(recognizer: object, text: str, entity: str) -> list[str]:
    found = recognizer.analyze(text, [entity], None)  # type: ignore[attr-defined]
    return [text[r.start : r.end] for r in found if r.score >= 0.4]


# --- checksums ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (valid_fr_nir, "2 59 07 84 018 159 71", "2 59 07 84 018 159 72"),
        (valid_fr_nir, "1 64 01 2A 246 281 29".replace("2A", "72"), "164017224628130"),
        (valid_bsn, "472803852", "472803853"),
        (valid_cpf, "184.553.453-06", "184.553.453-07"),
        (valid_cpf, "18455345306", "11111111111"),
        (valid_cn_id, "217103198602095219", "217103198602095218"),
        (valid_my_number, "2763 5529 4361", "2763 5529 4362"),
        (valid_no_fnr, "28029381846", "28029381847"),
        (valid_dk_cpr, "120384-1127", "320384-1127"),
    ],
)
def test_checksums(check: Callable[[str], bool], good: str, bad: str) -> None:
    assert check(good)
    assert not check(bad)


def test_every_spec_accepts_its_own_example_and_rejects_a_changed_check_digit() -> None:
    examples = {
        "FR_NIR": "259078401815971",
        "NL_BSN": "472803852",
        "DE_TAX_ID": "95304352056",
        "ES_DNI": "77589148M",
        "ES_NIE": "Y7354336P",
        "IT_FISCAL_CODE": "RSSMRA85T10A562S",
        "PL_PESEL": "56020556517",
        "SE_PERSONNUMMER": "720804-7279",
        "FI_HETU": "010781-104J",
        "NO_FNR": "28029381846",
        "IN_AADHAAR": "2021 3794 5188",
        "BR_CPF": "184.553.453-06",
        "BR_CPF_COMPACT": "18455345306",
        "CN_RESIDENT_ID": "217103198602095219",
        "JP_MY_NUMBER": "2763 5529 4361",
        "CA_SIN": "311-092-720",
    }
    specs = {s.name: s for s in ID_SPECS}
    for name, value in examples.items():
        assert specs[name].check(value), name
        last = value[-1]
        changed = value[:-1] + (str((int(last) + 1) % 10) if last.isdigit() else ("A" if last != "A" else "B"))
        assert not specs[name].check(changed), name


# --- recognizers alone ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane.doe@corp.local today", ["jane.doe@corp.local"]),
        ("ops <ops-team@company.internal>", ["ops-team@company.internal"]),
        ("b.huang@eng.lan, x@y.test and a+b@mail.example.", ["b.huang@eng.lan", "x@y.test", "a+b@mail.example"]),
        ("user=r.o'neil@intranet.corp src=10.0.0.1", ["r.o'neil@intranet.corp"]),
        ("Kevin.Oduya88@gmail.com", ["Kevin.Oduya88@gmail.com"]),
        ("@decorator and user@ alone, a@b", []),
    ],
)
def test_email_on_any_domain(text: str, expected: list[str]) -> None:
    assert _values(AnyDomainEmailRecognizer(), text, "EMAIL_ADDRESS") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BSN 472803852 verified", ["472803852"]),
        ("Steuer-ID: 95304352056", ["95304352056"]),
        ("DNI 77589148M", ["77589148M"]),
        ("el NIE Y7354336P", ["Y7354336P"]),
        ("Codice fiscale RSSMRA85T10A562S", ["RSSMRA85T10A562S"]),
        ("PESEL 56020556517", ["56020556517"]),
        ("personnummer 720804-7279", ["720804-7279"]),
        ("henkilötunnus 010781-104J", ["010781-104J"]),
        ("fødselsnummer 28029381846", ["28029381846"]),
        ("CPR-nr. 120384-1127", ["120384-1127"]),
        ("Aadhaar on file: 2021 3794 5188", ["2021 3794 5188"]),
        ("PAN: ABCPM1234K", ["ABCPM1234K"]),
        ("CPF: 184.553.453-06", ["184.553.453-06"]),
        ("身份证号码：217103198602095219", ["217103198602095219"]),
        ("マイナンバー 2763 5529 4361", ["2763 5529 4361"]),
        ("SIN: 311-092-720", ["311-092-720"]),
        ("N° de sécurité sociale : 259078401815971", ["259078401815971"]),
        # strong shapes count without a keyword when their checksum holds
        ("ref RSSMRA85T10A562S and 217103198602095219", ["RSSMRA85T10A562S", "217103198602095219"]),
        ("paid by 184.553.453-06", ["184.553.453-06"]),
        # weak checksums need their keyword; a look-alike passing the check stays
        ("order 472803852 shipped", []),
        ("invoice 95304352056", []),
        ("serial 2763 5529 4361", []),
        # a bare strong shape with a wrong checksum stays
        ("code 217103198602095218", []),
    ],
)
def test_national_ids(text: str, expected: list[str]) -> None:
    assert _values(NationalIdRecognizer(), text, "NATIONAL_ID") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Passport no. 533380006", ["533380006"]),
        ("Reisepass-Nr. C01X00T47", ["C01X00T47"]),
        ("pasaporte: XDA123456", ["XDA123456"]),
        ("passport photo attached", []),
    ],
)
def test_passports(text: str, expected: list[str]) -> None:
    assert _values(PassportRecognizer(), text, "PASSPORT") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Employee ID: E-204817", ["E-204817"]),
        ("(staff no. NL-3381)", ["NL-3381"]),
        ("personnel no. 88-4410,", ["88-4410"]),
        ("Customer number CU-0098812, born", ["CU-0098812"]),
        ("patient ID PT-00419922:", ["PT-00419922"]),
        ("Student number: s2291847", ["s2291847"]),
        ("Personalnummer: 40918", ["40918"]),
        ("MRN 4418820.", ["4418820"]),
        ("order number 88213, ticket 4410, invoice INV-7", []),
        ("the employee id is missing", []),
    ],
)
def test_org_ids(text: str, expected: list[str]) -> None:
    assert _values(OrgIdRecognizer(), text, "ORG_ID") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DOB 07/22/1969. The meeting on 07/25/2024", ["07/22/1969"]),
        ("geb. 02.11.1979", ["02.11.1979"]),
        ("Date of birth: 14/03/1987", ["14/03/1987"]),
        ("née le 21/09/1984 à Nantes", ["21/09/1984"]),
        ("Nata il 3 aprile 1992", ["3 aprile 1992"]),
        ("生年月日 1988年4月12日", ["1988年4月12日"]),
        ("born on 2 February 1972", ["2 February 1972"]),
        ("geboren am 14. März 1990", ["14. März 1990"]),
        ("born in 1985 in Leeds", ["1985"]),
        ("invoice date 2024-03-18, due 2024-04-17", []),
    ],
)
def test_dates_of_birth(text: str, expected: list[str]) -> None:
    assert _values(DateOfBirthRecognizer(), text, "DATE_OF_BIRTH") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a 34-year-old man", ["34"]),
        ("Mrs. Price, 67 y.o., NHS", ["67"]),
        ("34yo male", ["34"]),
        ("34 Jahre alt", ["34"]),
        ("die 34-jährige Patientin", ["34"]),
        ("elle a 34 ans", ["34"]),
        ("患者は34歳", ["34"]),
        ("M/34 with chest pain", ["34"]),
        ("Hannah Kirsch (29) and", ["29"]),
        ("il y a 10 ans; see Table (3); 10M users; 5 years ago", []),
    ],
)
def test_age_forms(text: str, expected: list[str]) -> None:
    assert _values(AgeRecognizer(), text, "AGE") == expected


@pytest.mark.parametrize(
    ("recognizer", "entity", "text", "expected"),
    [
        (LowerCaseIbanRecognizer(), "IBAN_CODE", "my iban is gb29nwbk60161331926819", ["gb29nwbk60161331926819"]),
        (LowerCaseIbanRecognizer(), "IBAN_CODE", "my iban is gb29nwbk60161331926818", []),  # mod-97 fails
        (
            UpperCasePlaceRecognizer(frozenset({"addition"})),
            "LOCATION",
            "flew to LEPPEN on Monday, grew up in HORTEN. In ADDITION, moved to AWS.",
            ["LEPPEN", "HORTEN"],
        ),
        (
            StreetAddressRecognizer(),
            "STREET_ADDRESS",
            "Ann Lee\n Suite 179\n Akureyri\n Iceland 80296\nFounded in Iceland 1998",
            ["Suite 179", "80296"],
        ),
        (
            StreetAddressRecognizer(),
            "STREET_ADDRESS",
            "During 2008, Sp Capital invested; a Meeting 12, Berlin",
            [],
        ),
        (
            StreetAddressRecognizer(),
            "STREET_ADDRESS",
            "to the corner of 3744 Retreat Avenue and Władysława Route. At the corner of the room and the door.",
            ["the corner of 3744 Retreat Avenue and Władysława Route"],
        ),
        (
            ExtraPhoneRecognizer(),
            "PHONE_NUMBER",
            "28-64-66-98 office\n3660170548-Fax\nversion 12 office",
            ["28-64-66-98", "3660170548"],
        ),
        (CardNearKeywordRecognizer(), "CREDIT_CARD", "credit card 587428561654 points", ["587428561654"]),
    ],
)
def test_more_shapes(recognizer: object, entity: str, text: str, expected: list[str]) -> None:
    assert _values(recognizer, text, entity) == expected


@pytest.mark.parametrize(
    ("text", "extended"),
    [
        ("Kaevu 94\nNicosia\n, NI\n 61089\n28-64-66-98 office", "Kaevu 94\nNicosia\n, NI\n 61089"),
        ("Main St, Springfield, IL 62704 is", "Main St, Springfield, IL 62704"),
        ("Kaevu 94\nThe meeting is at noon", "Kaevu 94"),
    ],
)
def test_locality_lines_after_a_street(text: str, extended: str) -> None:
    start = len(extended.split("\n")[0].split(",")[0])
    match = LOCALITY_AFTER_STREET.match(text, start)
    assert text[: match.end() if match else start] == extended


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("客户信息：王小明，身份证", ["王小明"]),
        ("社員情報：佐藤 健、生年月日", ["佐藤 健"]),
        ("お届け先：山本 花子 様", ["山本 花子"]),
        ("收件人：李娜，地址", ["李娜"]),
        ("担当：総務部です", []),
    ],
)
def test_cjk_names(text: str, expected: list[str]) -> None:
    assert _values(CjkNameRecognizer(), text, "PERSON") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ship to 〒105-0011 東京都港区芝公園4-2-8.", ["〒105-0011 東京都港区芝公園4-2-8"]),
        ("地址：北京市朝阳区建国路88号，邮编", ["北京市朝阳区建国路88号"]),
        ("东京大学的研究", []),
    ],
)
def test_cjk_addresses(text: str, expected: list[str]) -> None:
    assert _values(StreetAddressRecognizer(), text, "STREET_ADDRESS") == expected


# --- tables ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "entity"),
    [("Date of Birth", "DATE_OF_BIRTH"), ("first_name", "PERSON"), ("Emp-ID", "ORG_ID"), ("ville", "LOCATION")],
)
def test_column_names(header: str, entity: str) -> None:
    assert column_entity(header) == entity


def test_table_cells_under_personal_columns() -> None:
    text = "id;nom;dob;amount\nC-1;Girard;12/04/1988;10.00\nC-2;Lambert;30/11/1992;5.00\nTotal 15.00"
    found = TableColumnRecognizer(["PERSON", "DATE_OF_BIRTH", "ORG_ID"]).analyze(
        text, ["PERSON", "DATE_OF_BIRTH", "ORG_ID"], None
    )
    got = sorted((r.entity_type, text[r.start : r.end]) for r in found)
    assert got == [
        ("DATE_OF_BIRTH", "12/04/1988"),
        ("DATE_OF_BIRTH", "30/11/1992"),
        ("ORG_ID", "C-1"),
        ("ORG_ID", "C-2"),
        ("PERSON", "Girard"),
        ("PERSON", "Lambert"),
    ]


def test_a_table_without_personal_columns_gives_nothing() -> None:
    text = "account,period,debit\n4000-Revenue,2024-01,0.00\nid,sku\n1,AB-2"
    assert TableColumnRecognizer(["PERSON", "ORG_ID"]).analyze(text, ["PERSON", "ORG_ID"], None) == []


# --- look-alikes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "entity", "lookalike"),
    [
        ("PO 4500018891, line 10", "4500018891", "UK_NHS", True),
        ("Support case 0007741882 is closed", "0007741882", "PHONE_NUMBER", True),
        ("Chat #T-2024-118802", "2024-118802", "PHONE_NUMBER", True),
        ("Rechnung vom 05.02.2024", "05.02.2024", "PHONE_NUMBER", True),
        ("The Glasgow Coma Scale score was 14.", "14", "AGE", True),
        ("upstream 10.0.0.0/8 range", "10.0.0.0/8", "IP_ADDRESS", True),
        ("Huntington's chorea", "Huntington", "LOCATION", True),
        ("The Kaplan-Meier curve and", "Kaplan-Meier", "PERSON", True),
        ("a Cox model was fitted", "Cox", "LOCATION", True),
        ("Aadhaar on file", "Aadhaar", "PERSON", True),
        ("CURRICULUM VITAE\nAnn", "CURRICULUM VITAE", "PERSON", True),
        ("Ada's model train", "Ada", "PERSON", False),
        ("Order ID number 4412345678", "4412345678", "NATIONAL_ID", True),
        ("Transaction ID no. 123456789012", "123456789012", "NATIONAL_ID", True),
        ("BSN# 472803852", "472803852", "NATIONAL_ID", False),
        ("personnummer 720804-7279", "720804-7279", "NATIONAL_ID", False),
        ("Call me on 0803 555 2291", "0803 555 2291", "PHONE_NUMBER", False),
        ("NHS number 758 353 2892", "758 353 2892", "UK_NHS", False),
        ("Mr Price is 67.", "67", "AGE", False),
        ("Ada Lovelace's notes", "Ada Lovelace", "PERSON", False),
    ],
)
def test_lookalikes(text: str, value: str, entity: str, lookalike: bool) -> None:
    start = text.index(value)
    assert is_lookalike(text, start, start + len(value), entity) is lookalike


@pytest.mark.parametrize(
    ("value", "brand"),
    [
        ("Siemens Healthineers", True),
        ("Porsche Taycan", True),
        ("Apple, Siemens, Philips and Nestlé", True),
        ("Siemens, Philips and Nestlé", True),
        ("Morgan Stanley", True),
        ("Jane Philips", False),
        ("Ford", False),
        ("Siemens and Jane Doe", False),
    ],
)
def test_brands(value: str, brand: bool) -> None:
    assert names_a_brand(value) is brand


# --- policy: admin-declared patterns --------------------------------------------------------


def _policy(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "redaction.yaml"
    path.write_text('version: "t"\nentities:\n  PERSON: {operator: replace}\n' + extra, encoding="utf-8")
    return path


def test_identifier_patterns_are_schema_checked_and_compiled(tmp_path: Path) -> None:
    with pytest.raises(PolicyError):
        load_redaction_policy(_policy(tmp_path, "identifier_patterns:\n  - name: x\n    pattern: 5\n    bogus: 1\n"))
    with pytest.raises(PolicyError, match="identifier_patterns/0/pattern"):
        load_redaction_policy(_policy(tmp_path, "identifier_patterns:\n  - name: x\n    pattern: '(unclosed'\n"))
    policy = load_redaction_policy(
        _policy(tmp_path, "identifier_patterns:\n  - name: acme\n    pattern: 'ACME-E\\d{6}'\n")
    )
    assert policy.identifier_patterns[0].entity == "ORG_ID"
    assert "ORG_ID" in policy.detected_entities


def test_identifier_patterns_redact_through_the_redactor(tmp_path: Path) -> None:
    path = _policy(
        tmp_path,
        "identifier_patterns:\n"
        "  - name: acme\n    pattern: '\\bACME-E\\d{6}\\b'\n"
        "  - name: badge\n    entity: BADGE\n    pattern: '\\b\\d{7}\\b'\n    context_words: [badge]\n",
    )
    redactor = Redactor.from_policy_file(path)
    text = "Ticket for ACME-E123456: badge 7654321. The meeting is in building 4 on floor 2, room 1234567."
    out = redactor.redact(text).text
    assert out == "Ticket for <ORG_ID>: badge <BADGE>. The meeting is in building 4 on floor 2, room 1234567."


# --- the shipped Redactor -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        (
            "Contact margit.halvorsen@nordvik.corp.local or ops@company.internal",
            ["margit.halvorsen@nordvik.corp.local", "ops@company.internal"],
            ["Contact"],
        ),
        ("Employee ID: E-204817, DOB 14/03/1987, meeting 2024-03-18.", ["E-204817", "14/03/1987"], ["2024-03-18"]),
        ("Re: Tomasz, PESEL 56020556517, BSN 472803852.", ["56020556517", "472803852"], []),
        ("name,city,dob\nLucas Moreau,Lyon,1985-07-21", ["Lucas Moreau", "Lyon", "1985-07-21"], ["name,city,dob"]),
        (
            "Order 112-4455667-8899012, support case 0007741882, PO 4500018891, VAT DE811569869.",
            [],
            ["112-4455667-8899012", "0007741882", "4500018891", "DE811569869"],
        ),
    ],
)
def test_through_the_redactor(redactor: Redactor, text: str, gone: list[str], kept: list[str]) -> None:
    out = redactor.redact(text).text
    for value in gone:
        assert value not in out, out
    for value in kept:
        assert value in out, out


def test_output_guard_uses_the_same_email_detection(redactor: Redactor) -> None:
    answer = "You can write to jonas.lindqvist@corp.local [1]."
    guarded = redactor.guard(answer)
    assert "jonas.lindqvist@corp.local" not in guarded.text
    assert guarded.counts == {"EMAIL_ADDRESS": 1}
    assert "[1]" in guarded.text
