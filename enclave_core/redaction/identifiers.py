"""Identifiers of people: national numbers of many countries, passports, and organisation ids.

Imported only when the analyzer is built (it pulls in Presidio).

``NationalIdRecognizer`` is table-driven (``ID_SPECS``). Each row is one identifier: its shape, its
checksum (Presidio's own validator where presidio-analyzer 2.2.366 ships one, ours where it does not:
French NIR, Dutch BSN, Brazilian CPF, Chinese resident id, Japanese My Number, Norwegian and Danish
personal numbers) and the words that name it. Presidio's recognizers score any checksum-valid number
1.0, so a 9-12 digit order or invoice number that happens to pass a mod-10/mod-11 check would be
redacted; here a weak checksum needs its keyword within a few words before the value, and only
shapes a look-alike rarely has (a Chinese id, a codice fiscale, a formatted CPF, a DNI with its
letter) count without one. A value right after its keyword counts even when its checksum fails:
typos and test data are still somebody's number.

``OrgIdRecognizer``: numbers an organisation gives people ("employee ID E-20417", "staff no. 4471",
"customer number 0098812", "patient ID", "student number", "Personalnummer"), found by the words
before them. Order, ticket, invoice and tracking numbers are not people's and are not matched.
Admin-declared patterns (``identifier_patterns`` in the policy) are plain Presidio pattern
recognizers built by the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import regex as re
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CaSinRecognizer,
    DeTaxIdRecognizer,
    EsNieRecognizer,
    EsNifRecognizer,
    FiPersonalIdentityCodeRecognizer,
    InAadhaarRecognizer,
    ItFiscalCodeRecognizer,
    PlPeselRecognizer,
    SePersonnummerRecognizer,
)

from enclave_core.redaction.id_checksums import (
    valid_at_svnr,
    valid_au_medicare,
    valid_au_tfn,
    valid_be_nn,
    valid_bg_egn,
    valid_ch_ahv,
    valid_cl_rut,
    valid_cz_birth_number,
    valid_ee_personal_code,
    valid_gr_amka,
    valid_hr_oib,
    valid_ie_ppsn,
    valid_il_id,
    valid_is_kennitala,
    valid_kr_rrn,
    valid_pt_nif,
    valid_ro_cnp,
    valid_sg_nric,
    valid_tr_tckn,
    valid_za_id,
)

__all__ = [
    "ID_SPECS",
    "MORE_ID_SPECS",
    "IdSpec",
    "NationalIdRecognizer",
    "OrgIdRecognizer",
    "PassportRecognizer",
    "valid_bsn",
    "valid_cn_id",
    "valid_cpf",
    "valid_dk_cpr",
    "valid_fr_nir",
    "valid_my_number",
    "valid_no_fnr",
]


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


# --- checksums Presidio does not ship -------------------------------------------------------


def valid_fr_nir(value: str) -> bool:
    """French NIR (numéro de sécurité sociale): 13 characters, then 97 - (number mod 97)."""
    compact = re.sub(r"[\s.]", "", value).upper()
    if len(compact) != 15:
        return False
    body = compact[:13].replace("2A", "19", 1) if compact[5:7] == "2A" else compact[:13]
    body = body.replace("2B", "18", 1) if compact[5:7] == "2B" else body
    if not body.isdigit() or not compact[13:].isdigit():
        return False
    return 97 - int(body) % 97 == int(compact[13:])


def valid_bsn(value: str) -> bool:
    """Dutch BSN: the eleven-test (9..2 weights, the last digit weighted -1)."""
    d = _digits(value)
    if len(d) != 9 or d == "0" * 9:
        return False
    total = sum(int(c) * w for c, w in zip(d[:8], range(9, 1, -1), strict=True)) - int(d[8])
    return total % 11 == 0


def valid_cpf(value: str) -> bool:
    """Brazilian CPF: two mod-11 check digits; eleven equal digits are not issued."""
    d = [int(c) for c in _digits(value)]
    if len(d) != 11 or len(set(d)) == 1:
        return False
    for n in (9, 10):
        check = sum(d[i] * (n + 1 - i) for i in range(n)) * 10 % 11 % 10
        if check != d[n]:
            return False
    return True


_CN_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def valid_cn_id(value: str) -> bool:
    """Chinese resident identity card number (18 characters): ISO 7064 MOD 11-2, X for 10."""
    v = value.upper()
    if len(v) != 18 or not v[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(v[:17], _CN_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == v[17]


def valid_my_number(value: str) -> bool:
    """Japanese My Number (individual number): 11 digits and a check digit."""
    d = _digits(value)
    if len(d) != 12:
        return False
    body = [int(c) for c in reversed(d[:11])]  # P1 is the rightmost digit of the body
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(body, start=1))
    rem = total % 11
    return int(d[11]) == (0 if rem <= 1 else 11 - rem)


def valid_no_fnr(value: str) -> bool:
    """Norwegian fødselsnummer: a date and two mod-11 check digits."""
    d = [int(c) for c in _digits(value)]
    if len(d) != 11:
        return False
    for weights in ((3, 7, 6, 1, 8, 9, 4, 5, 2), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)):
        check = 11 - sum(a * b for a, b in zip(d, weights, strict=False)) % 11
        check = 0 if check == 11 else check
        if check == 10 or check != d[len(weights)]:
            return False
    return True


def valid_dk_cpr(value: str) -> bool:
    """Danish CPR: ddmmyy-ssss with a real day (the mod-11 rule was dropped in 2007)."""
    d = _digits(value)
    if len(d) != 10:
        return False
    try:
        date(2000 + int(d[4:6]), int(d[2:4]), int(d[0:2]))
    except ValueError:
        return False
    return True


def _presidio(validator: Callable[[str], bool | None], compact: bool = True) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        text = re.sub(r"[\s.-]", "", value) if compact else value
        return bool(validator(text))

    return check


def _sin(value: str) -> bool:
    recognizer = CaSinRecognizer()
    return not recognizer.invalidate_result(value)


# --- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdSpec:
    """One identifier: ``shape`` (a regex for the value), ``check`` (its checksum), ``keywords``
    (a regex alternation naming it) and ``bare`` (a valid value counts without a keyword)."""

    name: str
    shape: str
    check: Callable[[str], bool]
    keywords: str
    bare: bool = False


# More countries (checksums in id_checksums). Keyword-only unless the shape is distinctive.
MORE_ID_SPECS: tuple[IdSpec, ...] = (
    IdSpec(
        "CH_AHV",
        r"756[. ]?\d{4}[. ]?\d{4}[. ]?\d{2}",
        valid_ch_ahv,
        r"AHV(?:-?(?:Nr\.?|Nummer))?|AVS|AHV-?N13|Sozialversicherungsnummer|num[ée]ro[ \t]+AVS",
        bare=True,
    ),
    IdSpec(
        "BE_NATIONAL_NUMBER",
        r"\d{2}\.?\d{2}\.?\d{2}[- ]?\d{3}\.?\d{2}",
        valid_be_nn,
        r"rijksregisternummer|rijksregister|num[ée]ro[ \t]+national|registre[ \t]+national|INSZ|NISS|NN",
    ),
    IdSpec(
        "AT_SVNR",
        r"\d{4}[ \t]?\d{6}",
        valid_at_svnr,
        r"SVNR|SV-?Nummer|SV-?Nr\.?|Sozialversicherungsnummer|Versicherungsnummer|e-?card",
    ),
    IdSpec(
        "IE_PPSN",
        r"\d{7}[A-W][A-IW]?",
        valid_ie_ppsn,
        r"PPSN?|PPS[ \t]+(?:number|no\.?)|personal[ \t]+public[ \t]+service",
    ),
    IdSpec(
        "PT_NIF",
        r"[1235689]\d{2}[ \t]?\d{3}[ \t]?\d{3}",
        valid_pt_nif,
        r"NIF|NIPC|contribuinte|n[úu]mero[ \t]+de[ \t]+identifica[çc][ãa]o[ \t]+fiscal",
    ),
    IdSpec("RO_CNP", r"[1-8]\d{12}", valid_ro_cnp, r"CNP|cod(?:ul)?[ \t]+numeric[ \t]+personal"),
    IdSpec(
        "TR_TCKN", r"[1-9]\d{10}", valid_tr_tckn, r"T\.?C\.?[ \t]+Kimlik(?:[ \t]+No\.?)?|kimlik[ \t]+numaras[ıi]|TCKN"
    ),
    IdSpec(
        "ZA_ID",
        r"\d{6}[ \t]?\d{4}[ \t]?\d{2}[ \t]?\d",
        valid_za_id,
        r"SA[ \t]+ID|RSA[ \t]+ID|South[ \t]+African[ \t]+ID",
    ),
    IdSpec("IL_ID", r"\d{9}", valid_il_id, r"Teudat[ \t]+Zehut|ת\.?ז\.?|Israeli[ \t]+ID"),
    IdSpec(
        "KR_RRN", r"\d{6}-?[1-8]\d{6}", valid_kr_rrn, r"RRN|resident[ \t]+registration(?:[ \t]+number)?|주민등록번호"
    ),
    IdSpec("SG_NRIC", r"[STFGM]\d{7}[A-Z]", valid_sg_nric, r"NRIC|FIN", bare=True),
    IdSpec("AU_TFN", r"\d{3}[ \t]?\d{3}[ \t]?\d{2,3}", valid_au_tfn, r"TFN|tax[ \t]+file(?:[ \t]+number)?"),
    IdSpec(
        "AU_MEDICARE", r"[2-6]\d{3}[ \t]?\d{5}[ \t]?\d(?:[ \t/-]?\d)?", valid_au_medicare, r"Medicare(?:[ \t]+card)?"
    ),
    IdSpec("CL_RUT", r"\d{1,2}\.\d{3}\.\d{3}-[\dkK]", valid_cl_rut, r"RUT|RUN|rol[ \t]+[úu]nico", bare=True),
    IdSpec("CL_RUT_COMPACT", r"\d{7,8}-[\dkK]", valid_cl_rut, r"RUT|RUN"),
    IdSpec("HR_OIB", r"\d{11}", valid_hr_oib, r"OIB|osobni[ \t]+identifikacijski[ \t]+broj"),
    IdSpec(
        "CZ_BIRTH_NUMBER",
        r"\d{6}/\d{3,4}",
        valid_cz_birth_number,
        r"rodn[ée][ \t]+[čc][íi]slo|R[ČC]|birth[ \t]+number",
        bare=True,
    ),
    IdSpec(
        "CZ_BIRTH_NUMBER_COMPACT",
        r"\d{10}",
        valid_cz_birth_number,
        r"rodn[ée][ \t]+[čc][íi]slo|R[ČC]|birth[ \t]+number",
    ),
    IdSpec(
        "EE_LT_PERSONAL_CODE",
        r"[1-6]\d{10}",
        valid_ee_personal_code,
        r"isikukood|asmens[ \t]+kodas|personal[ \t]+code",
    ),
    IdSpec("BG_EGN", r"\d{10}", valid_bg_egn, r"EGN|ЕГН|единен[ \t]+граждански[ \t]+номер"),
    IdSpec("IS_KENNITALA", r"\d{6}-?\d{4}", valid_is_kennitala, r"kennitala|kt\.?"),
    IdSpec("GR_AMKA", r"\d{11}", valid_gr_amka, r"AMKA|ΑΜΚΑ"),
    IdSpec(
        "MX_CURP",
        r"[A-Z][AEIOUX][A-Z]{2}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[HM][A-Z]{2}[B-DF-HJ-NP-TV-Z]{3}[0-9A-Z]\d",
        lambda v: True,
        r"CURP",
        bare=True,
    ),
)

# Words that name any national number; a country's own words are added per row.
_GENERIC = (
    r"national[ \t]+(?:id(?:entity)?|identification|insurance)(?:[ \t]+(?:card|number|no\.?|nr\.?))?"
    r"|personal[ \t]+(?:id(?:entity)?[ \t]+)?(?:number|code|no\.?)|identity[ \t]+(?:number|card|no\.?)"
    r"|ID[ \t]*(?:no\.?|nr\.?|number|\#)|citizen[ \t]+id|tax[ \t]+(?:id|identification)(?:[ \t]+number)?|TIN"
)

ID_SPECS: tuple[IdSpec, ...] = (
    IdSpec(
        "FR_NIR",
        r"[12][ \t]?\d{2}[ \t]?(?:0[1-9]|1[0-2]|[2-9]\d)[ \t]?(?:\d{2}|2[AB])[ \t]?\d{3}[ \t]?\d{3}[ \t]?\d{2}",
        valid_fr_nir,
        r"NIR|INSEE|s[ée]curit[ée][ \t]+sociale|s[ée]cu|carte[ \t]+vitale|social[ \t]+security(?:[ \t]+number)?",
        bare=True,
    ),
    IdSpec(
        "NL_BSN",
        r"\d{4}\.?\d{2}\.?\d{3}|\d{3}[ \t.]\d{3}[ \t.]\d{3}",
        valid_bsn,
        r"BSN|burgerservicenummer|sofi(?:nummer)?",
    ),
    IdSpec(
        "DE_TAX_ID",
        r"[1-9]\d[ \t]?\d{3}[ \t]?\d{3}[ \t]?\d{3}",
        _presidio(DeTaxIdRecognizer().validate_result),
        r"Steuer-?ID|Steuer-?IdNr\.?|IdNr\.?|Steueridentifikationsnummer|steuerliche[ \t]+Identifikationsnummer",
    ),
    IdSpec(
        "ES_DNI",
        r"\d{8}[- ]?[A-Z]",
        _presidio(EsNifRecognizer().validate_result),
        r"DNI|NIF|documento[ \t]+nacional[ \t]+de[ \t]+identidad",
        bare=True,
    ),
    IdSpec("ES_NIE", r"[XYZ][- ]?\d{7}[- ]?[A-Z]", _presidio(EsNieRecognizer().validate_result), r"NIE", bare=True),
    IdSpec(
        "IT_FISCAL_CODE",
        r"[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z]",
        _presidio(ItFiscalCodeRecognizer().validate_result, compact=False),
        r"codice[ \t]+fiscale|C\.?F\.?|fiscal[ \t]+code",
        bare=True,
    ),
    IdSpec(
        "PL_PESEL",
        r"\d{2}(?:[02468][1-9]|[13579][012])(?:0[1-9]|[12]\d|3[01])\d{5}",
        _presidio(PlPeselRecognizer().validate_result),
        r"PESEL",
    ),
    IdSpec(
        "SE_PERSONNUMMER",
        r"(?:19|20)?\d{6}[-+]?\d{4}",
        _presidio(SePersonnummerRecognizer().validate_result, compact=False),
        r"personnummer|personnr\.?|samordningsnummer",
    ),
    IdSpec(
        "FI_HETU",
        r"\d{6}[-+ABCDEFYXWVU]\d{3}[0-9A-FHJ-NPR-Y]",
        _presidio(FiPersonalIdentityCodeRecognizer().validate_result, compact=False),
        r"henkil[öo]tunnus|hetu|personbeteckning",
        bare=True,
    ),
    IdSpec("NO_FNR", r"\d{6}[ \t]?\d{5}", valid_no_fnr, r"f[øo]dselsnummer|f[øo]dselsnr\.?|personnummer"),
    IdSpec("DK_CPR", r"\d{6}-?\d{4}", valid_dk_cpr, r"CPR(?:-?(?:nr\.?|nummer))?|personnummer"),
    IdSpec(
        "IN_AADHAAR",
        r"[2-9]\d{3}[ \t-]?\d{4}[ \t-]?\d{4}",
        _presidio(InAadhaarRecognizer().validate_result),
        r"aadhaar|aadhar|UIDAI|UID",
    ),
    IdSpec(
        "IN_PAN",
        r"[A-Z]{3}[ABCFGHJLPT][A-Z]\d{4}[A-Z]",
        lambda v: True,
        r"PAN|permanent[ \t]+account[ \t]+number",
        bare=True,
    ),
    IdSpec("BR_CPF", r"\d{3}\.\d{3}\.\d{3}-\d{2}", valid_cpf, r"CPF", bare=True),
    IdSpec("BR_CPF_COMPACT", r"\d{11}", valid_cpf, r"CPF"),
    IdSpec(
        "CN_RESIDENT_ID",
        r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]",
        valid_cn_id,
        r"身份证(?:号码?)?|resident[ \t]+id(?:entity)?(?:[ \t]+card)?",
        bare=True,
    ),
    IdSpec(
        "JP_MY_NUMBER",
        r"\d{4}[ \t-]?\d{4}[ \t-]?\d{4}",
        valid_my_number,
        r"マイナンバー|個人番号|my[ \t]*number|individual[ \t]+number",
    ),
    IdSpec("CA_SIN", r"[1-79]\d{2}[ \t-]?\d{3}[ \t-]?\d{3}", _sin, r"SIN|social[ \t]+insurance(?:[ \t]+number)?|NAS"),
    *MORE_ID_SPECS,
)

# Keyword, then up to ~25 characters of "number", "no.", ":", "(masked)" and the like on the same line.
_AFTER_KEYWORD = (
    r"(?:[ \t]*(?:\((?:[^()\n]{0,20})\)|number|num\.?|no\.?|nr\.?|n°|nº|#|is|was|card|on[ \t]+(?:file|record)"
    r"|:|：|=|-|–|,)){0,4}[ \t]*"
)
_KEYWORD_SCORE = 0.85
_BARE_SCORE = 0.75
_KEYWORD_BAD_CHECKSUM_SCORE = 0.6
_NAME = "NationalIdRecognizer"


class _TableRecognizer(EntityRecognizer):
    """Shared plumbing: compiled (entity, regex, keyword?) rows turned into RecognizerResults."""

    ENTITY = ""
    label = ""

    def load(self) -> None:  # patterns are compiled in __init__
        pass

    def _result(self, start: int, end: int, score: float, why: str) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.ENTITY,
            start=start,
            end=end,
            score=score,
            analysis_explanation=AnalysisExplanation(
                recognizer=self.label, original_score=score, textual_explanation=why
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


class NationalIdRecognizer(_TableRecognizer):
    """NATIONAL_ID: the identifiers of ``ID_SPECS`` (see the module doc for when a match counts)."""

    ENTITY = "NATIONAL_ID"
    label = _NAME

    def __init__(self, specs: tuple[IdSpec, ...] = ID_SPECS, supported_language: str = "en") -> None:
        self._rows: list[tuple[IdSpec, re.Pattern[str], re.Pattern[str] | None]] = []
        for spec in specs:
            value = r"(?<![\w.-])(?:" + spec.shape + r")(?![\w-]|\.\d)"
            keyworded = re.compile(
                r"(?i:(?<![\w])(?:"
                + spec.keywords
                + r"|"
                + _GENERIC
                + r")(?![\w]))"
                + _AFTER_KEYWORD
                + r"("
                + value
                + r")"
            )
            bare = re.compile(value) if spec.bare else None
            self._rows.append((spec, keyworded, bare))
        super().__init__(supported_entities=[self.ENTITY], name=_NAME, supported_language=supported_language)

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if self.ENTITY not in entities or not any(ch.isdigit() for ch in text):
            return []
        best: dict[tuple[int, int], tuple[float, str]] = {}  # one result per span, the best reading

        def offer(span: tuple[int, int], score: float, why: str) -> None:
            if score > best.get(span, (0.0, ""))[0]:
                best[span] = (score, why)

        for spec, keyworded, bare in self._rows:
            for m in keyworded.finditer(text):
                valid = spec.check(m.group(1))
                offer(m.span(1), _KEYWORD_SCORE if valid else _KEYWORD_BAD_CHECKSUM_SCORE, f"{spec.name} after keyword")
            if bare is not None:
                for m in bare.finditer(text):
                    if spec.check(m.group(0)):
                        offer(m.span(), _BARE_SCORE, f"{spec.name}, checksum valid")
        return [self._result(s, e, score, why) for (s, e), (score, why) in sorted(best.items())]


# Passports: a keyword in one of several languages, then a 6-9 character number holding digits.
_PASSPORT = re.compile(
    r"(?i:(?<![\w])(?:passport|passeport|reisepass|pasaporte|passaporto|paspoort|pass|паспорт|护照|旅券|パスポート)"
    r"(?:[ \t-]*(?:number|no\.?|nr\.?|n°|\#|num\.?|id))?)"
    + _AFTER_KEYWORD
    + r"((?<![\w-])(?=[A-Z0-9]*\d)[A-Z]{0,2}[ \t]?[A-Z0-9]{6,9}(?![\w-]))"
)


_US_PASSPORT = re.compile(r"\d{9}|[A-Z]\d{8}")


class PassportRecognizer(_TableRecognizer):
    """PASSPORT: a passport number named as one ("passport no. 533380006", "Reisepass: C01X00T47")."""

    ENTITY = "PASSPORT"
    label = "PassportRecognizer"

    def __init__(self, defer_to_us_passport: bool = False, supported_language: str = "en") -> None:
        # With US_PASSPORT also in the policy, its own recognizer names the US shapes (9 digits, a letter
        # and 8 digits) after "passport": one label per shape, whichever order recognizers run in.
        self._defer = defer_to_us_passport
        super().__init__(
            supported_entities=[self.ENTITY], name="PassportRecognizer", supported_language=supported_language
        )

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if self.ENTITY not in entities:
            return []
        return [
            self._result(m.start(1), m.end(1), 0.8, "passport after its keyword")
            for m in _PASSPORT.finditer(text)
            if not (self._defer and _US_PASSPORT.fullmatch(m.group(1)))
        ]


# People's numbers inside an organisation. Order/ticket/invoice/tracking numbers are not listed.
_ORG_KEYWORD = (
    r"(?:(?:employee|emp\.?|staff|personnel|payroll|worker|HR|badge|customer|client|patient|student|pupil|member"
    r"|membership|matriculation|enrol(?:l)?ment|candidate|applicant|policyholder|insured|account[ \t]+holder)"
    r"[ \t]*(?:ID|id|Id|identifier|no\.?|nr\.?|number|num\.?|\#|code|ref(?:erence)?)"
    r"|MRN|medical[ \t]+record[ \t]+(?:number|no\.?)|hospital[ \t]+(?:number|no\.?)"
    r"|Personalnummer|Personal-?Nr\.?|Mitarbeiter(?:nummer|-?Nr\.?|-?ID)|Kundennummer|Kunden-?Nr\.?"
    r"|Patienten(?:nummer|-?ID)|Matrikelnummer|matricule|num[ée]ro[ \t]+(?:client|d'employ[ée]|de[ \t]+patient)"
    r"|n[ºo°]?[ \t]+de[ \t]+(?:empleado|cliente|paciente)|社員番号|従業員番号|学籍番号|患者ID|工号)"
)
_ORG_VALUE = r"((?<![\w-])(?=[\w/.-]*\d)[A-Za-z0-9][\w/.-]{1,22}[A-Za-z0-9](?![\w-]))"
_ORG_ID = re.compile(
    r"(?<![\w])(?i:" + _ORG_KEYWORD + r")(?![\w])(?:[ \t]*(?:\(?s\)?|:|=|\#|-|–|is|was|of|\.)){0,3}[ \t]*" + _ORG_VALUE
)


class OrgIdRecognizer(_TableRecognizer):
    """ORG_ID: employee, staff, customer, patient, student numbers named by the words before them."""

    ENTITY = "ORG_ID"
    label = "OrgIdRecognizer"

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=[self.ENTITY], name="OrgIdRecognizer", supported_language=supported_language
        )

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if self.ENTITY not in entities or not any(ch.isdigit() for ch in text):
            return []
        return [self._result(m.start(1), m.end(1), 0.8, "id after its keyword") for m in _ORG_ID.finditer(text)]
