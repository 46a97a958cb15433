"""Recognizers for Japanese personal data: regular expressions plus the checks a regex cannot make.

Each recognizer finds a candidate, then decides with context (the words before or after it) and, where
the value has one, a check digit. Full-width digits and hyphens are accepted everywhere (Japanese
forms are typed both ways). Spans are offsets into the text as given, never into a normalised copy.

- ``JaPhoneRecognizer`` PHONE_NUMBER: fixed 0X-XXXX-XXXX forms (10 digits), mobile and IP phones
  070/080/090/050 (11 digits), +81, parentheses; an undelimited run only after a phone word.
- ``MyNumberRecognizer`` NATIONAL_ID: マイナンバー, 12 digits whose check digit is right
  (``identifiers.valid_my_number``); after 法人番号 (13 digits, a company's public number) nothing.
- ``JaAddressRecognizer`` STREET_ADDRESS: 〒 postcode, prefecture, municipality, town, 丁目・番地・号 and
  the building and room as one span; a postcode alone after 〒 or 郵便番号.
- ``JaBankAccountRecognizer`` BANK_ACCOUNT: the 7-digit number after 普通/当座/口座番号 near a bank word.
- ``JaBirthDateRecognizer`` DATE_OF_BIRTH: Western and 和暦 dates after 生年月日/誕生日 or before 生まれ.
- ``JaAgeRecognizer`` AGE: "45歳" about someone, not "20歳以上" rules or "30代" brackets.
- ``JaEmailRecognizer`` EMAIL_ADDRESS: ASCII addresses that stop where the Japanese text resumes.
- ``JaNameRecognizer`` PERSON: names after form labels (氏名, 担当, 名義, フリガナ), before honorifics
  (様, さん, 氏, 殿, 君, job titles), and romaji names with a common surname.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from enclave_core.redaction.identifiers import valid_my_number
from enclave_core.redaction.japanese_names import ROMAJI_SURNAMES, SURNAMES, TITLE_WORDS

__all__ = [
    "CORPORATE_WORDS",
    "JA_ENTITIES",
    "JaAddressRecognizer",
    "JaAgeRecognizer",
    "JaBankAccountRecognizer",
    "JaBirthDateRecognizer",
    "JaEmailRecognizer",
    "JaNameRecognizer",
    "JaPhoneRecognizer",
    "MyNumberRecognizer",
    "business_phone",
    "japanese_recognizers",
    "plausible_japanese_name",
]

D = "[0-9０-９]"
_HY_CHARS = "\\-‐－―−‑ー"  # hyphens as typed, including the long-vowel mark an IME often puts in a number
HY = f"[{_HY_CHARS}]"
Z = "[0０]"
KANJI = "[\u4e00-\u9fff々〆ヶ]"
KATA = "[\u30a1-\u30faー・]"
SEP = "[:：\\s　]*"
_NOT_DIGIT_BEFORE = f"(?<![0-9０-９{_HY_CHARS}])"
_NOT_DIGIT_AFTER = f"(?!{HY}?[0-9０-９])"


def _window(text: str, start: int, chars: int) -> str:
    return text[max(0, start - chars) : start]


def _digit_count(value: str) -> int:
    return sum(1 for ch in value if ch.isdigit())


Check = Callable[[str, "re.Match[str]"], float | None]  # score for a match, None to drop it


class _JaRecognizer(EntityRecognizer):
    """Regex candidates, each scored (or dropped) by a check function; group "v" is the span if present."""

    ENTITY = ""

    def __init__(self, rules: Iterable[tuple[str, Check]]) -> None:
        self._rules = [(re.compile(p, re.MULTILINE), check) for p, check in rules]
        super().__init__(supported_entities=[self.ENTITY], name=type(self).__name__, supported_language="ja")

    def load(self) -> None:  # nothing to load: patterns compile in __init__
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        out: list[RecognizerResult] = []
        for pattern, check in self._rules:
            for m in pattern.finditer(text):
                score = check(text, m)
                if score is None:
                    continue
                group = "v" if "v" in pattern.groupindex and m.group("v") is not None else 0
                out.append(RecognizerResult(self.ENTITY, m.start(group), m.end(group), score))
        return out


# --- phone numbers ----------------------------------------------------------------------------

_PHONE_WORDS = re.compile(r"(?:電話|TEL|Tel|tel|携帯|連絡先|ＴＥＬ|FAX|Fax|ファックス|☎|直通|内線|phone)")


_ASCII_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def business_phone(value: str) -> bool:
    """True for toll-free and navi-dial numbers (0120, 0800, 0570): they belong to businesses, not people."""
    first = re.match(r"[0-9０-９]+", value.lstrip("（( "))
    return first is not None and first.group().translate(_ASCII_DIGITS) in ("0120", "0800", "0570")


def _phone_check(text: str, m: re.Match[str]) -> float | None:
    digits = _digit_count(m.group())
    value = m.group()
    if value.lstrip("（(").startswith("+") or value.startswith("＋"):
        return 0.75 if 9 <= digits - 2 <= 10 else None
    national = "".join(ch for ch in value if ch.isdigit())
    national = national.translate(_ASCII_DIGITS)
    if business_phone(value):
        return None
    mobile = national[:3] in ("070", "080", "090", "050")
    if digits != (11 if mobile else 10):
        return None
    return 0.85 if _PHONE_WORDS.search(_window(text, m.start(), 12)) else 0.7


def _bare_phone_check(text: str, m: re.Match[str]) -> float | None:
    if not _PHONE_WORDS.search(_window(text, m.start(), 10)):
        return None
    return _phone_check(text, m)


_PHONE_RULES: list[tuple[str, Check]] = [
    # 03-1234-5678, 090-1234-5678, 0120-123-456, 03（1234）5678, (03)1234-5678
    (
        f"{_NOT_DIGIT_BEFORE}(?:[（(]{Z}{D}{{1,4}}[）)]\\s?{D}{{1,4}}{HY}{D}{{3,4}}"
        f"|{Z}{D}{{1,4}}(?:{HY}|\\s|[（(]){D}{{1,4}}(?:{HY}|\\s|[）)]){D}{{3,4}}){_NOT_DIGIT_AFTER}",
        _phone_check,
    ),
    # +81 3-1234-5678, +81-90-1234-5678, ＋８１ ９０ １２３４ ５６７８
    (
        f"[+＋](?:81|８１)(?:{HY}|\\s)?(?:[（(]{Z}[）)])?{D}{{1,4}}(?:{HY}|\\s){D}{{1,4}}(?:{HY}|\\s){D}{{4}}{_NOT_DIGIT_AFTER}",
        _phone_check,
    ),
    # 09012345678 / 0312345678 written without separators: only after a phone word
    (f"{_NOT_DIGIT_BEFORE}{Z}{D}{{9,10}}(?!{D})", _bare_phone_check),
]


class JaPhoneRecognizer(_JaRecognizer):
    ENTITY = "PHONE_NUMBER"

    def __init__(self) -> None:
        super().__init__(_PHONE_RULES)


# --- My Number --------------------------------------------------------------------------------

_MY_NUMBER_WORDS = re.compile(r"(?:マイナンバー|個人番号|ﾏｲﾅﾝﾊﾞｰ|My\s?Number)", re.IGNORECASE)
CORPORATE_WORDS = re.compile(r"(?:法人番号|会社法人等番号|登録番号|適格請求書)")


def _my_number_check(text: str, m: re.Match[str]) -> float | None:
    if not valid_my_number(m.group()):
        return None
    before = _window(text, m.start(), 16)
    if CORPORATE_WORDS.search(before):
        return None
    if _MY_NUMBER_WORDS.search(before):
        return 0.95
    grouped = not m.group().isdigit()
    return 0.6 if grouped else 0.35  # 1 in 10 random 12-digit numbers passes the check: need more


_MY_NUMBER_RULES: list[tuple[str, Check]] = [
    (
        f"{_NOT_DIGIT_BEFORE}(?:{D}{{4}}(?:{HY}|[ 　]){D}{{4}}(?:{HY}|[ 　]){D}{{4}}|{D}{{12}}){_NOT_DIGIT_AFTER}",
        _my_number_check,
    ),
]


class MyNumberRecognizer(_JaRecognizer):
    ENTITY = "NATIONAL_ID"

    def __init__(self) -> None:
        super().__init__(_MY_NUMBER_RULES)


# --- addresses --------------------------------------------------------------------------------

_PREFECTURES = """
北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県
東京都 神奈川県 新潟県 富山県 石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県
滋賀県 京都府 大阪府 兵庫県 奈良県 和歌山県 鳥取県 島根県 岡山県 広島県 山口県 徳島県
香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 熊本県 大分県 宮崎県 鹿児島県 沖縄県
""".split()  # noqa: SIM905 - a word list reads better as text
_PREF = "(?:" + "|".join(_PREFECTURES) + ")"
_NUM = f"(?:{D}+|[一二三四五六七八九十]+)"
_ZIP = f"(?:〒\\s?)?{D}{{3}}{HY}{D}{{4}}"
_HIRAGANA_CITIES = "さいたま|つくば|ひたちなか|いわき|かすみがうら|みどり|あきる野|ふじみ野|たつの|さくら|うきは|えびの"
_MUNI = f"(?:(?:{_HIRAGANA_CITIES}|(?:{KANJI}|{KATA}){{1,6}}?)(?:市|区|郡|町|村)){{1,3}}"
_TOWN = f"(?:{KANJI}|{KATA}|[のノヶケＡ-Ｚ]){{0,16}}?"
_BLOCK = f"{_NUM}(?:\\s?(?:丁目|番地|番|号|{HY}|の)\\s?{_NUM}?){{0,4}}(?<=[0-9０-９号番地目])"
_BUILDING_WORDS = (
    "ビル|マンション|ハイツ|コーポ|荘|タワー|レジデンス|ハウス|アパート"
    "|パレス|コート|ヒルズ|プラザ|館|棟|メゾン|ガーデン"
)
# After the block: a named building (with or without a room), any building name followed by a room
# number ("美原町コーポ570", "ABCレジデンス 1203号室"), or a bare room number.
_BUILDING = (
    f"(?:[ 　]?(?:{KANJI}|{KATA}|[A-Za-zＡ-Ｚａ-ｚ]){{1,16}}?(?:{_BUILDING_WORDS})"
    f"(?:[ 　]?[A-Za-z]?{_NUM}(?:階|F|号室|号)?)?"
    f"|[ 　](?:{KANJI}|{KATA}|[A-Za-zＡ-Ｚａ-ｚ]){{1,16}}[ 　]?[A-Za-z]?{D}{{2,4}}(?:号室|号)?(?!{D})"
    f"|[ 　]?{_NUM}号室)?"
)
_ADDRESS = (
    f"(?:{_ZIP}\\s*)?"
    f"(?:{_PREF}[ 　]?{_MUNI}(?:[ 　]?{_TOWN}{_BLOCK}{_BUILDING})?"
    f"|(?<!{KANJI}|{KATA}){_MUNI}[ 　]?{_TOWN}{_BLOCK}{_BUILDING})"
)
_ZIP_WORDS = re.compile(r"(?:郵便番号|〒|住所|所在地|ZIP)")


def _address_check(text: str, m: re.Match[str]) -> float | None:
    return 0.85 if re.search(_PREF, m.group()) or re.search(_BLOCK, m.group()) else None


def _zip_check(text: str, m: re.Match[str]) -> float | None:
    if m.group().startswith("〒") or _ZIP_WORDS.search(_window(text, m.start(), 8)):
        return 0.8
    return None


_ADDRESS_RULES: list[tuple[str, Check]] = [
    (_ADDRESS, _address_check),
    (f"{_NOT_DIGIT_BEFORE}{_ZIP}{_NOT_DIGIT_AFTER}", _zip_check),
]


class JaAddressRecognizer(_JaRecognizer):
    ENTITY = "STREET_ADDRESS"

    def __init__(self) -> None:
        super().__init__(_ADDRESS_RULES)


# --- bank accounts ----------------------------------------------------------------------------

_BANK_WORDS = re.compile(r"(?:銀行|信用金庫|信金|信用組合|労働金庫|農協|ゆうちょ|支店|口座|振込|振替)")


def _bank_check(text: str, m: re.Match[str]) -> float | None:
    return 0.85 if _BANK_WORDS.search(_window(text, m.start(), 40)) else None


_BANK_RULES: list[tuple[str, Check]] = [
    # 普通 1234567 / 当座預金 口座番号：1234567 / 口座番号 1234567
    (
        f"(?:普通|当座|貯蓄|総合)(?:預金)?(?:口座)?(?:番号)?{SEP}(?:No\\.?|№)?{SEP}(?P<v>{D}{{7}})(?!{D})"
        f"|口座(?:番号|No\\.?){SEP}(?P<v>{D}{{7,8}})(?!{D})",
        _bank_check,
    ),
    # ゆうちょ銀行 記号 12345 番号 12345678 / 12345-12345678
    (f"記号{SEP}(?P<v>{D}{{5}}{SEP}(?:番号)?{SEP}{D}{{6,8}})(?!{D})", _bank_check),
    (f"{_NOT_DIGIT_BEFORE}(?P<v>1{D}{{4}}{HY}{D}{{6,8}}){_NOT_DIGIT_AFTER}", _bank_check),
]


class JaBankAccountRecognizer(_JaRecognizer):
    ENTITY = "BANK_ACCOUNT"

    def __init__(self) -> None:
        super().__init__(_BANK_RULES)


# --- dates of birth and ages ------------------------------------------------------------------

_ERA = "(?:昭和|平成|令和|大正|[SHRT]\\.?)"
_DATE = (
    f"(?:{D}{{4}}\\s?年\\s?{D}{{1,2}}\\s?月\\s?{D}{{1,2}}\\s?日"
    f"|{_ERA}\\s?(?:{D}{{1,2}}|元)\\s?年\\s?{D}{{1,2}}\\s?月\\s?{D}{{1,2}}\\s?日"
    f"|{D}{{4}}[/／.．-]{D}{{1,2}}[/／.．-]{D}{{1,2}}"
    f"|{_ERA}{D}{{1,2}}[/／.．]{D}{{1,2}}[/／.．]{D}{{1,2}})"
)
_BIRTH_BEFORE = re.compile(r"(?:生年月日|誕生日|出生日|生年|DOB|生まれ)[^。\n]{0,6}$")
_BIRTH_AFTER = re.compile(r"\s?(?:（[^）]{0,8}）)?\s?(?:生まれ|生|産まれ|出生)")


def _birth_check(text: str, m: re.Match[str]) -> float | None:
    if _BIRTH_BEFORE.search(_window(text, m.start(), 14)) or _BIRTH_AFTER.match(text, m.end()):
        return 0.85
    return None  # an ordinary date (a meeting, a deadline) is not personal data


class JaBirthDateRecognizer(_JaRecognizer):
    ENTITY = "DATE_OF_BIRTH"

    def __init__(self) -> None:
        super().__init__([(f"{_NOT_DIGIT_BEFORE}{_DATE}(?!{D})", _birth_check)])


# An age in a rule, a bracket or a threshold is nobody's age: "20歳以上", "3歳児", "定年は満65歳とし",
# "子が1歳に達するまで", "70歳を迎える", "65歳に到達した日". Read right after the age ...
_AGE_RULE_AFTER = re.compile(
    r"(?:以上|以下|未満|以降|まで|から|超|児|前後|くらい|程度|向け|代|に達|を迎え|に到達|到達|を超え|を上限|を下限"
    r"|に満た|になる(?:まで|日|月|年度)|になった(?:日|月|年度)|の(?:誕生日|前日|年度末|月末)|とし|とする|定年)"
)
# ... and in the few characters before it ("定年は満65歳", "対象年齢 3歳", "子が1歳").
_AGE_RULE_BEFORE = re.compile(r"(?:定年|年齢制限|上限年齢|対象年齢|受給開始|子が|子の|子を|歳から)[^。\n]{0,4}$")
# A person's age: a form label or an age after a name in brackets ("年齢：45歳", "田中さん（45歳）").
_AGE_WORDS = re.compile(r"(?:年齢|享年|当時|現在|歳の|才の)")


def _age_check(text: str, m: re.Match[str]) -> float | None:
    years = int("".join(ch for ch in m.group("n") if ch.isdigit()))
    if years > 120 or _AGE_RULE_AFTER.match(text, m.end()) or _AGE_RULE_BEFORE.search(_window(text, m.start(), 10)):
        return None  # rules, thresholds and brackets, not someone's age
    return 0.75 if _AGE_WORDS.search(_window(text, m.start(), 8)) or m.group().startswith("（") else 0.6


class JaAgeRecognizer(_JaRecognizer):
    ENTITY = "AGE"

    def __init__(self) -> None:
        super().__init__([(f"(?<![0-9０-９])(?:満\\s?)?(?P<n>{D}{{1,3}})\\s?(?:歳|才)", _age_check)])


# --- e-mail -----------------------------------------------------------------------------------


class JaEmailRecognizer(_JaRecognizer):
    ENTITY = "EMAIL_ADDRESS"

    def __init__(self) -> None:
        # ASCII only: in Python regex kana and kanji are \w, so a \w-based pattern runs on into "まで".
        super().__init__(
            [("(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+(?<![.-])", lambda t, m: 0.9)]
        )


# --- names ------------------------------------------------------------------------------------

_NAME_LABELS = (
    "氏名|お名前|名前|姓名|担当者名?|担当|申請者|申込者|社員名|従業員名|契約者名?|口座名義|名義人?|宛名|差出人|"
    "送信者|受取人|署名|作成者|報告者|記入者|患者名?|本人|配偶者|緊急連絡先|保護者|代表者|責任者|出席者|参加者|"
    "承認者|依頼者|対応者|フリガナ|ふりがな|カナ|From|TO|To|CC"
)
_KANJI_NAME = f"{KANJI}{{1,4}}(?:[ 　]?{KANJI}{{1,4}})?"
_KANA_NAME = f"{KATA}{{2,8}}(?:[ 　]{KATA}{{1,8}})?|[ｦ-ﾟ]{{2,10}}(?:[ 　][ｦ-ﾟ]{{1,10}})?"
_ROMAJI_NAME = "[A-Z][a-z]{1,14}[ 　][A-Z][A-Za-z]{1,14}"
_TITLES = "|".join(sorted(TITLE_WORDS, key=len, reverse=True))
# Words that stand before 様/さん but are not names: お客様, 皆様, 各位, ...
_NOT_NAMES = frozenset(
    """
    客 お客 皆 皆さん 各位 神 王 奥 先方 相手 担当 担当者 御中 患者
    利用者 会員 ご家族 家族 子供 お子 方 同 当 本人 保護者 社員 職員 同僚
    上司 部下 先輩 後輩 お母 お父 母 父 兄 姉 弟 妹 奥 旦那
    ご主人 主人 みな 皆様方 関係者 ユーザー お得意 得意先 取引先 貴社 御社 弊社 当社 新人
    新入社員 営業 部長 課長 社長 代表 所長
    """.split()  # noqa: SIM905
)


def _surname_start(value: str) -> bool:
    compact = value.replace(" ", "").replace("　", "")
    return any(compact.startswith(s) for s in SURNAMES if len(s) <= len(compact))


# Endings of company, shop and bank names: "小林水産", "千葉銀行", "山本運輸" are a surname plus a business.
_BUSINESS_ENDINGS = (
    "部", "課", "社", "所", "店", "銀行", "水産", "建設", "印刷", "運輸", "ガス", "農林", "情報", "商事",
    "工業", "電機", "物産", "製作", "不動産", "産業", "電気", "通信", "食品", "興業", "商会", "商店",
    "工務", "鉄道", "病院", "医院",
    "薬局", "保険", "証券", "信金", "組合", "事務", "法人", "会社", "グループ", "ホールディングス",
)  # fmt: skip


_COMPANY_FORMS = ("株式会社", "有限会社", "合同会社", "合資会社", "(株)", "（株）", "㈱")
_NAME_PUNCTUATION = frozenset("：:、。，,/／()（）「」【】")


def plausible_japanese_name(value: str, text: str = "", start: int = 0, end: int = 0) -> bool:
    """False for a span no Japanese person's name looks like: digits, punctuation, a company or a
    generic word; with ``text`` also a surname that is part of a company name ("藤井印刷株式会社")."""
    compact = value.replace(" ", "").replace("　", "")
    if (
        not 1 <= len(compact) <= 12
        or compact in _NOT_NAMES
        or any(ch.isdigit() or ch in _NAME_PUNCTUATION for ch in compact)
        or compact.endswith(_BUSINESS_ENDINGS)
        or "銀行" in compact
        or "支店" in compact
    ):
        return False
    if text:
        after = text[end : end + 12]
        if after.startswith(_BUSINESS_ENDINGS) or (
            after[:1] not in ("様", "さ", "氏", "殿", " ", "　")
            and any(f in after[:10] and "\n" not in after[: after.find(f)] for f in _COMPANY_FORMS)
        ):
            return False
        if text[max(0, start - 4) : start].endswith(_COMPANY_FORMS):
            return False
    return True


def _plausible_name(value: str) -> bool:
    return len(value.replace(" ", "").replace("　", "")) <= 8 and plausible_japanese_name(value)


def _label_check(text: str, m: re.Match[str]) -> float | None:
    value = m.group("v")
    if not _plausible_name(value) or not plausible_japanese_name(value, text, m.start("v"), m.end("v")):
        return None
    return 0.85 if _surname_start(value) or re.fullmatch(_KANA_NAME, value) else 0.6


def _honorific_check(text: str, m: re.Match[str]) -> float | None:
    value = m.group("v")
    if not _plausible_name(value):
        return None
    if _surname_start(value):
        return 0.85
    return 0.6 if m.group("t") in ("様", "さん", "氏", "殿", "君", "くん", "さま") else None


def _romaji_check(text: str, m: re.Match[str]) -> float | None:
    parts = [p.casefold() for p in m.group("v").split()]
    return 0.8 if any(p in ROMAJI_SURNAMES for p in parts) else None


def _reading_check(text: str, m: re.Match[str]) -> float | None:
    return 0.7


def _surname_given_check(text: str, m: re.Match[str]) -> float | None:
    value = m.group("v")
    if value.endswith(TITLE_WORDS):  # "鈴木一郎様", "佐藤部長": the honorific rule owns these
        return None
    return 0.6 if plausible_japanese_name(value, text, m.start("v"), m.end("v")) else None


# Longest first (a surname that begins another, 佐藤/佐藤田, must not cut it short), then by text: the
# pattern is the same in every process (set order changes with the hash seed), so the regex cache hits.
_SURNAME_ALT = "|".join(sorted(SURNAMES, key=lambda s: (-len(s), s)))


_NAME_RULES: list[tuple[str, Check]] = [
    (
        f"(?:{_NAME_LABELS})(?:[(（][^)）\\n]{{0,6}}[)）])?{SEP}(?P<v>{_KANJI_NAME}|{_KANA_NAME}|{_ROMAJI_NAME})"
        f"(?={SEP}(?:$|[、。,，()（）/／\\]」』・]|{_TITLES}|[ 　]|\\n|[ぁ-ん]|[0-9０-９]|[A-Za-z＠@]))",
        _label_check,
    ),
    (f"(?P<v>{_KANJI_NAME}|{KATA}{{2,8}}|[ぁ-ん]{{2,5}})(?P<t>{_TITLES})", _honorific_check),
    (f"(?<![A-Za-z])(?P<v>{_ROMAJI_NAME})(?![A-Za-z])", _romaji_check),
    # 佐藤健一が / 佐藤 健一、: a listed surname and a kanji given name, ended by a particle or punctuation
    (
        f"(?<!{KANJI})(?P<v>(?:{_SURNAME_ALT})[ 　]?{KANJI}{{1,3}})(?=[はがをにのともへで、。，,（(）)\\s・]|$)",
        _surname_given_check,
    ),
    # a full name in katakana, family and given name apart: ヤマグチ モモコ (the reading format of forms)
    (f"(?<!{KATA})(?P<v>{KATA}{{2,6}}[ 　]{KATA}{{2,6}})(?!{KATA})", lambda t, m: 0.5),
    # the reading of a name in brackets right after it: 山田 太郎（ヤマダ タロウ）
    (f"(?<={KANJI})[（(](?P<v>{KATA}{{2,8}}[ 　]{KATA}{{1,8}})[）)]", _reading_check),
]


class JaNameRecognizer(_JaRecognizer):
    ENTITY = "PERSON"

    def __init__(self) -> None:
        super().__init__(_NAME_RULES)


JA_ENTITIES: frozenset[str] = frozenset(
    {
        "PERSON",
        "LOCATION",
        "STREET_ADDRESS",
        "PHONE_NUMBER",
        "NATIONAL_ID",
        "BANK_ACCOUNT",
        "DATE_OF_BIRTH",
        "AGE",
        "EMAIL_ADDRESS",
    }
)


def japanese_recognizers(wanted: Iterable[str]) -> list[EntityRecognizer]:
    """The pattern recognizers for the wanted entity types (NER is added by the engine)."""
    builders: dict[str, Callable[[], EntityRecognizer]] = {
        "PERSON": JaNameRecognizer,
        "STREET_ADDRESS": JaAddressRecognizer,
        "PHONE_NUMBER": JaPhoneRecognizer,
        "NATIONAL_ID": MyNumberRecognizer,
        "BANK_ACCOUNT": JaBankAccountRecognizer,
        "DATE_OF_BIRTH": JaBirthDateRecognizer,
        "AGE": JaAgeRecognizer,
        "EMAIL_ADDRESS": JaEmailRecognizer,
    }
    return [builders[e]() for e in sorted(set(wanted)) if e in builders]
