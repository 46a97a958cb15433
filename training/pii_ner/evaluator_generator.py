"""presidio-evaluator's own sentence generator, fed with *our* people instead of its identity table.

presidio-synth (the benchmark) was produced by ``PresidioSentenceFaker``: the 210 frames, its Faker
providers (notably ``AddressProviderNew``, whose address formats include "the corner of X and Y",
"<first name> and <street>" and lines broken before a comma), and one FakeNameGenerator identity
per sentence. The issue allows that generator as a source of synthetic text. We run the generator
itself, so its slot formats and labels are exactly what it produces, but we hand it identity
records drawn from Faker through ``Pools``: no row of its FakeNameGenerator table, and no benchmark
sentence, is ever read.

Each record mimics an identity row: a name from one of ``NAME_LOCALES``, a street line, town,
postcode and country from one of ``ADDRESS_LOCALES`` (as one identity's address would be), plus
phone, e-mail, job, company, birth date and age. A slot the record cannot fill (a second name in
one frame, a building number) falls to Faker's en_US providers, as in the original; organisations
always come from Faker through our own provider, never from its company list. Its HospitalProvider
(which would try to download a list) is left out: no frame uses it. Frames with dates draw them
relative to today, so those digits (never labels) differ between runs.
"""

from __future__ import annotations

import contextlib
import io
import random
from typing import Any

from training.pii_ner.generate import ADDRESS_LOCALES, Pools, company

__all__ = ["EVALUATOR_TO_TRAIN", "evaluator_records", "people", "training_samples"]

# presidio-evaluator's output types -> this package's training labels (None: not an NER label here).
EVALUATOR_TO_TRAIN: dict[str, str | None] = {
    "PERSON": "PERSON",
    "STREET_ADDRESS": "STREET_ADDRESS",
    "GPE": "GPE",
    "ZIP_CODE": "STREET_ADDRESS",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "AGE": "AGE",
    "ORGANIZATION": "ORG",
}

_NATIONALITIES = ["American", "English", "German", "French", "Italian", "Spanish", "Dutch", "Swedish", "Danish",
                  "Norwegian", "Finnish", "Polish", "Czech", "Hungarian", "Russian", "Japanese", "Brazil",
                  "Australian", "Scottish", "Icelandic", "Slovenian", "Croatian"]  # fmt: skip


def _street_line(address: str) -> str:
    return next(ln.strip() for ln in address.split("\n") if ln.strip())


def people(p: Pools, n: int) -> list[dict[str, Any]]:
    """``n`` identity records with the columns presidio-evaluator's generator reads."""
    rng = p.rng
    rows: list[dict[str, Any]] = []
    locales = list(ADDRESS_LOCALES)
    for i in range(n):
        gender = rng.choice(["male", "female"])
        first, last = p.first_last()
        loc = rng.choice(locales)
        fk = p.fakers.get(loc, p.en)
        street = _street_line(fk.address())
        state_abbr = p.en.state_abbr() if loc == "en_US" else ""
        prefix = rng.choice(["Mr.", "Dr."] if gender == "male" else ["Mrs.", "Ms.", "Dr."])
        age = rng.randint(18, 90)
        middle = rng.choice("ABCDEFGHJKLMNPRSTW")
        person = f"{first} {last}" if rng.random() > 0.2 else f"{first} {middle}{rng.choice([' ', '. '])}{last}"
        row: dict[str, Any] = {
            "number": i + 1,
            "gender": gender,
            "nationality": rng.choice(_NATIONALITIES),
            "prefix": prefix,
            "first_name": first,
            "middle_initial": middle,
            "last_name": last,
            "street_name": street,
            "city": fk.city(),
            "state_abbr": state_abbr,
            "state": p.en.state() if loc == "en_US" else "",
            "zipcode": fk.postcode(),
            "country": ADDRESS_LOCALES[loc],
            "email": p.en.email(),
            "phone_number": p.phone(),
            "date_of_birth": p.en.date_of_birth(minimum_age=age, maximum_age=age).strftime("%m/%d/%Y"),
            "age": age,
            "job": p.en.job(),
            "company": p.en.company(),
            "organization": company(p)[0][0],  # else its OrganizationProvider reads its company list
            "domain_name": p.en.domain_name(),
            "person": person,
            "name": person,
        }
        for part in ("first_name", "prefix", "last_name"):
            row[f"{part}_female"] = row[part] if gender == "female" else ""
            row[f"{part}_male"] = row[part] if gender == "male" else ""
        rows.append(row)
    return rows


def evaluator_records(n: int, seed: int, *, n_people: int = 3000) -> list[dict[str, Any]]:
    """``n`` sentences from presidio-evaluator's ``PresidioSentenceFaker`` over our own identities.

    Returned in presidio-synth's JSON shape (``full_text``, ``masked``, ``spans`` with
    ``entity_type``/``entity_value``/``start_position``/``end_position``, ``template_id``).
    """
    import pandas as pd
    from faker.providers import BaseProvider
    from presidio_evaluator.data_generator import PresidioSentenceFaker
    from presidio_evaluator.data_generator.faker_extensions import (
        AddressProviderNew,
        AgeProvider,
        IpAddressProvider,
        NationalityProvider,
        PhoneNumberProviderNew,
        ReligionProvider,
        UsDriverLicenseProvider,
    )

    p = Pools(seed)
    records = pd.DataFrame(people(p, n_people))

    class OurOrganizations(BaseProvider):
        """Stands in for its OrganizationProvider (its company list) when a frame asks twice."""

        def organization(self) -> str:
            return company(p)[0][0]

        def company(self) -> str:
            return company(p)[0][0]

    # Its default providers, minus the company list and HospitalProvider (which tries the network).
    providers = [IpAddressProvider, NationalityProvider, OurOrganizations, UsDriverLicenseProvider, AgeProvider,
                 AddressProviderNew, PhoneNumberProviderNew, ReligionProvider]  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        faker = PresidioSentenceFaker(
            "en_US", lower_case_ratio=0.05, base_records=records, entity_providers=providers, random_seed=seed
        )
        samples = faker.generate_new_fake_sentences(num_samples=n)
    random.seed()  # the generator seeds the global random module; do not leave it fixed for callers
    return [s.to_dict() for s in samples]


def training_samples(n: int, seed: int) -> list[dict[str, object]]:
    """``n`` generator sentences as training samples (``text`` + ``[start, end, label]`` spans).

    Types map through ``EVALUATOR_TO_TRAIN``; address parts written next to each other become one
    STREET_ADDRESS, the same convention as the rest of the training data (``merge_address``). Half
    the sentences are given as ``redactor.analysis_text`` hands them to the NER (a written-out
    ``\\n`` read as a space and a line break, same offsets), half as written.
    """
    from enclave_core.redaction.redactor import analysis_text
    from training.pii_ner.evaluator_frames import merge_address

    rng = random.Random(seed)
    out: list[dict[str, object]] = []
    for rec in evaluator_records(n, seed):
        text = rec["full_text"]
        spans: list[list[object]] = []
        for span in sorted(rec["spans"], key=lambda s: s["start_position"]):
            label = EVALUATOR_TO_TRAIN.get(span["entity_type"])
            if label is not None:
                spans.append([span["start_position"], span["end_position"], label])
        spans = merge_address(spans, text)
        if rng.random() < 0.5:  # half as the Redactor's detectors read it: written-out breaks as whitespace
            text = analysis_text(text)
        out.append({"text": text, "spans": spans})
    return out
