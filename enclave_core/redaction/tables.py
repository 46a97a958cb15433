"""Personal data in delimited tables (CSV, TSV, semicolon or pipe separated rows), found by column name.

A spreadsheet row has no sentence around its values: "Lucas Moreau,1985-07-21,Lyon" gives the NER and
the context-driven recognizers nothing to go on, yet its header says what each cell is. A header line
is a line of at least two cells that are all short labels (no digits only, no sentence) and of which at
least one is a known column name (``COLUMNS``); the lines right after it with the same number of cells
are its rows. Every non-empty cell under a known column is reported as that column's entity.

A bare "id" column counts as an organisation's id of a person (ORG_ID) only when the same header also
has a name column: in a table of people, the row id identifies the person.
"""

from __future__ import annotations

import re

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

__all__ = ["COLUMNS", "TableColumnRecognizer", "column_entity"]


def _names(*words: str) -> frozenset[str]:
    return frozenset(words)


# Normalised header (lower case, spaces/hyphens/dots as "_") -> entity.
COLUMNS: dict[str, frozenset[str]] = {
    "DATE_OF_BIRTH": _names(
        "dob",
        "d_o_b",
        "date_of_birth",
        "birth_date",
        "birthdate",
        "birthday",
        "born",
        "geburtsdatum",
        "geb_datum",
        "date_naissance",
        "date_de_naissance",
        "fecha_nacimiento",
        "fecha_de_nacimiento",
        "data_nascita",
        "data_di_nascita",
        "geboortedatum",
        "fødselsdato",
        "födelsedatum",
        "data_urodzenia",
        "data_nascimento",
        "data_de_nascimento",
        "生年月日",
        "出生日期",
    ),
    "PERSON": _names(
        "name",
        "full_name",
        "fullname",
        "first_name",
        "firstname",
        "given_name",
        "forename",
        "last_name",
        "lastname",
        "surname",
        "family_name",
        "middle_name",
        "nom",
        "prénom",
        "prenom",
        "nom_de_famille",
        "vorname",
        "nachname",
        "familienname",
        "nombre",
        "apellido",
        "apellidos",
        "nome",
        "cognome",
        "naam",
        "voornaam",
        "achternaam",
        "employee_name",
        "employee",
        "customer_name",
        "customer",
        "patient_name",
        "patient",
        "student_name",
        "contact_name",
        "contact_person",
        "manager",
        "supervisor",
        "emergency_contact",
        "姓名",
        "氏名",
        "名前",
    ),
    "ORG_ID": _names(
        "emp_id",
        "empid",
        "emp_no",
        "employee_id",
        "employee_no",
        "employee_number",
        "staff_id",
        "staff_no",
        "staff_number",
        "personnel_no",
        "personnel_number",
        "payroll_id",
        "customer_id",
        "customer_no",
        "customer_number",
        "client_id",
        "client_no",
        "patient_id",
        "patient_no",
        "mrn",
        "student_id",
        "student_no",
        "student_number",
        "member_id",
        "member_no",
        "badge_id",
        "badge_no",
        "personalnummer",
        "personal_nr",
        "kundennummer",
        "kunden_nr",
        "matrikelnummer",
        "matricule",
        "社員番号",
    ),
    "LOCATION": _names(
        "city",
        "town",
        "ville",
        "stadt",
        "ort",
        "wohnort",
        "ciudad",
        "città",
        "citta",
        "woonplaats",
        "place_of_birth",
        "birthplace",
        "birth_place",
        "hometown",
        "lieu_de_naissance",
        "geburtsort",
    ),
    "STREET_ADDRESS": _names(
        "address",
        "street",
        "street_address",
        "home_address",
        "adresse",
        "anschrift",
        "straße",
        "strasse",
        "dirección",
        "direccion",
        "indirizzo",
        "adres",
        "endereço",
        "endereco",
        "住所",
        "地址",
    ),
    "EMAIL_ADDRESS": _names("email", "e_mail", "mail", "email_address", "courriel", "correo"),
    "PHONE_NUMBER": _names(
        "phone",
        "phone_number",
        "tel",
        "telephone",
        "mobile",
        "cell",
        "telefon",
        "téléphone",
        "telefono",
        "teléfono",
        "handy",
        "mobil",
        "gsm",
        "電話番号",
        "电话",
        "手机",
    ),
    "US_SSN": _names("ssn", "social_security_number"),
    "NATIONAL_ID": _names(
        "national_id",
        "national_id_number",
        "bsn",
        "pesel",
        "nir",
        "cpf",
        "dni",
        "nie",
        "nif",
        "steuer_id",
        "steuerid",
        "tax_id",
        "tin",
        "personnummer",
        "fødselsnummer",
        "henkilötunnus",
        "hetu",
        "aadhaar",
        "pan",
        "sin",
        "nino",
        "ni_number",
        "nhs_number",
        "codice_fiscale",
        "my_number",
        "マイナンバー",
        "身份证号",
    ),
    "PASSPORT": _names("passport", "passport_no", "passport_number"),
    "AGE": _names("age", "alter", "âge", "edad", "età", "leeftijd", "年齢"),
    "IBAN_CODE": _names("iban", "bank_account", "account_iban"),
}
_BY_NAME: dict[str, str] = {name: entity for entity, names in COLUMNS.items() for name in names}
_DELIMITERS = ("\t", ";", "|", ",")
_LABEL = re.compile(r"[^\W\d][\w .#/()'’-]{0,39}")
_SCORE = 0.7
_NAME = "TableColumnRecognizer"


def column_entity(header: str) -> str | None:
    """The entity of a column called ``header`` ("Date of Birth" -> DATE_OF_BIRTH), or None."""
    key = re.sub(r"[\s.\-/]+", "_", header.strip().strip("\"'").lower()).strip("_")
    return _BY_NAME.get(key)


def _cells(line: str, delimiter: str) -> list[tuple[int, int]]:
    """(start, end) of each cell in ``line``, trimmed of blanks and quotes; a leading/trailing pipe is a border."""
    spans: list[tuple[int, int]] = []
    pos = 0
    parts = line.split(delimiter)
    if delimiter == "|" and len(parts) > 2 and not parts[0].strip() and not parts[-1].strip():
        pos = len(parts[0]) + 1
        parts = parts[1:-1]
    for part in parts:
        start, end = pos, pos + len(part)
        while start < end and line[start] in " \t\"'":
            start += 1
        while end > start and line[end - 1] in " \t\"'\r":
            end -= 1
        spans.append((start, end))
        pos += len(part) + 1
    return spans


class TableColumnRecognizer(EntityRecognizer):
    """Cells of delimited tables under a known column name (see the module doc)."""

    def __init__(self, supported_entities: list[str], supported_language: str = "en") -> None:
        super().__init__(supported_entities=supported_entities, name=_NAME, supported_language=supported_language)

    def load(self) -> None:  # a static table
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if "\n" not in text:
            return []
        wanted = set(entities) & set(self.supported_entities)
        lines: list[tuple[int, str]] = []
        pos = 0
        for line in text.split("\n"):
            lines.append((pos, line))
            pos += len(line) + 1
        results: list[RecognizerResult] = []
        k = 0
        while k < len(lines) - 1:
            found = self._header(lines[k][1])
            if found is None:
                k += 1
                continue
            delimiter, columns = found
            k += 1
            while k < len(lines):
                offset, line = lines[k]
                cells = _cells(line, delimiter) if delimiter in line else []
                if len(cells) != len(columns):
                    break
                for (start, end), entity in zip(cells, columns, strict=True):
                    if entity in wanted and end > start:
                        results.append(self._result(entity, offset + start, offset + end))
                k += 1
        return results

    @staticmethod
    def _header(line: str) -> tuple[str, list[str | None]] | None:
        for delimiter in _DELIMITERS:
            if delimiter not in line:
                continue
            cells = [line[s:e] for s, e in _cells(line, delimiter)]
            if len(cells) < 2 or not all(_LABEL.fullmatch(c) for c in cells):
                continue
            columns = [column_entity(c) for c in cells]
            if not any(columns):
                continue
            if "PERSON" in columns:
                columns = [
                    "ORG_ID" if col is None and cell.strip().lower() in ("id", "no", "nr", "#") else col
                    for col, cell in zip(columns, cells, strict=True)
                ]
            return delimiter, columns
        return None

    def _result(self, entity: str, start: int, end: int) -> RecognizerResult:
        return RecognizerResult(
            entity_type=entity,
            start=start,
            end=end,
            score=_SCORE,
            analysis_explanation=AnalysisExplanation(
                recognizer=_NAME, original_score=_SCORE, textual_explanation="cell under a personal-data column"
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: _NAME,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )
