"""Japanese PII recognizers, table-driven: expected spans, check-digit failures and look-alikes.

The recognizers run alone (no GiNZA) except in the Redactor tests at the end, which load GiNZA once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.pii_ja_data import my_number_check_digit
from enclave_core.redaction import Redactor
from enclave_core.redaction.identifiers import valid_my_number
from enclave_core.redaction.japanese import JA_ENTITIES, japanese_recognizers
from enclave_core.redaction.policy import parse_redaction_policy

RECOGNIZERS = japanese_recognizers(JA_ENTITIES)


THRESHOLD = 0.4  # policies/redaction.yaml score_threshold


def found(text: str, entity: str) -> list[str]:
    return sorted(
        {
            text[r.start : r.end]
            for rec in RECOGNIZERS
            for r in rec.analyze(text, [entity], None)  # type: ignore[arg-type]  # no NLP artifacts needed
            if r.entity_type == entity and r.score >= THRESHOLD
        }
    )


CASES: list[tuple[str, str, str, list[str]]] = [
    # (id, entity, text, expected values)
    ("fixed", "PHONE_NUMBER", "電話：03-1234-5678", ["03-1234-5678"]),
    ("fixed-4-digit-area", "PHONE_NUMBER", "TEL 0466-00-4960 まで", ["0466-00-4960"]),
    ("mobile", "PHONE_NUMBER", "携帯は090-1234-5678です", ["090-1234-5678"]),
    ("mobile-0-after-prefix", "PHONE_NUMBER", "ご連絡は080-0753-4182まで", ["080-0753-4182"]),
    ("full-width", "PHONE_NUMBER", "電話番号 ０８０－６６１５－２０１６ まで", ["０８０－６６１５－２０１６"]),
    ("plus-81", "PHONE_NUMBER", "Mobile: +81 90-1234-5678", ["+81 90-1234-5678"]),
    ("parentheses", "PHONE_NUMBER", "（03）1234-5678 へ", ["（03）1234-5678"]),
    ("bare-after-word", "PHONE_NUMBER", "電話 09012345678", ["09012345678"]),
    ("bare-without-word", "PHONE_NUMBER", "伝票 09012345678", []),
    ("toll-free-is-business", "PHONE_NUMBER", "フリーダイヤル 0120-123-456", []),
    ("too-few-digits", "PHONE_NUMBER", "内線 03-123-456", []),
    ("my-number", "NATIONAL_ID", "マイナンバー：1234 5678 9018", ["1234 5678 9018"]),
    ("my-number-plain", "NATIONAL_ID", "個人番号 123456789018", ["123456789018"]),
    ("my-number-bad-check-digit", "NATIONAL_ID", "マイナンバー：1234 5678 9012", []),
    ("corporate-number-13-digits", "NATIONAL_ID", "法人番号 1234567890123", []),
    ("corporate-word-before-12", "NATIONAL_ID", "法人番号 123456789018", []),
    ("order-number-no-context", "NATIONAL_ID", "注文番号 123456789018", []),  # valid digit, no context: 0.35
    (
        "address-full",
        "STREET_ADDRESS",
        "住所：〒160-0023 東京都新宿区西新宿2丁目8番1号 新宿パークタワー 1203号室",
        ["〒160-0023 東京都新宿区西新宿2丁目8番1号 新宿パークタワー 1203号室", "〒160-0023"],
    ),
    (
        "address-building-room",
        "STREET_ADDRESS",
        "静岡県武蔵野市卯の里23丁目2番3号 パーク上野公園436",
        ["静岡県武蔵野市卯の里23丁目2番3号 パーク上野公園436"],
    ),
    ("address-city-block", "STREET_ADDRESS", "大阪市北区梅田3-1-1に住む", ["大阪市北区梅田3-1-1"]),
    ("address-not-after-hiragana", "STREET_ADDRESS", "さんは大阪府大阪市北区梅田3-1-1", ["大阪府大阪市北区梅田3-1-1"]),
    ("zip-with-word", "STREET_ADDRESS", "郵便番号 123-4567", ["123-4567"]),
    ("zip-without-context", "STREET_ADDRESS", "部品番号 123-4567", []),
    ("bank", "BANK_ACCOUNT", "みずほ銀行 渋谷支店 普通 1234567", ["1234567"]),
    ("bank-current", "BANK_ACCOUNT", "振込先口座：福岡銀行 天神支店 当座預金 口座番号 7654321", ["7654321"]),
    ("bank-no-bank-word", "BANK_ACCOUNT", "商品の普通 1234567 個", []),
    ("dob-wareki", "DATE_OF_BIRTH", "生年月日：昭和60年4月1日", ["昭和60年4月1日"]),
    ("dob-western-born", "DATE_OF_BIRTH", "1988年4月12日生まれ", ["1988年4月12日"]),
    ("dob-slash", "DATE_OF_BIRTH", "誕生日 1990/01/31", ["1990/01/31"]),
    ("ordinary-date", "DATE_OF_BIRTH", "会議は2024年5月1日に開催する。", []),
    ("age", "AGE", "山田さん（45歳）は", ["45歳"]),
    ("age-rule", "AGE", "対象は20歳以上の方です。", []),
    ("age-child", "AGE", "3歳児健診", []),
    # A person's age is personal data ...
    ("age-bracket-after-name", "AGE", "田中さん（45歳）が担当します。", ["45歳"]),
    ("age-form-label", "AGE", "年齢：45歳", ["45歳"]),
    ("age-sentence", "AGE", "山田さんは45歳で入社した。", ["45歳"]),
    ("age-at-the-time", "AGE", "当時32歳の担当者が対応した。", ["32歳"]),
    ("age-full-width", "AGE", "年齢 ４５歳", ["４５歳"]),
    # ... an age in a rule, a threshold or a bracket is nobody's and stays.
    ("age-retirement-rule", "AGE", "定年は満65歳とし、定年に達した日の属する月の末日をもって退職とする。", []),
    ("age-under-threshold", "AGE", "満18歳未満の者を時間外労働に従事させない。", []),
    ("age-until-rehire", "AGE", "本人が希望する場合は、70歳まで嘱託社員として再雇用する。", []),
    ("age-child-reaches", "AGE", "子が1歳に達するまで育児休業を取得できる。", []),
    ("age-extension", "AGE", "保育所に入れない場合は2歳に達するまで延長できる。", []),
    ("age-reached-day", "AGE", "満65歳に達した日の属する月の末日", []),
    ("age-target-from", "AGE", "対象年齢は満3歳からです。", []),
    ("age-birthday-eve", "AGE", "65歳の誕生日の前日に退職する。", []),
    ("email-stops-at-japanese", "EMAIL_ADDRESS", "メール taro.yamada@example.co.jpまで", ["taro.yamada@example.co.jp"]),
    ("name-label", "PERSON", "氏名：山田 太郎", ["山田 太郎"]),
    ("name-honorific", "PERSON", "鈴木一郎様へ", ["鈴木一郎"]),
    ("name-title", "PERSON", "佐藤部長に報告", ["佐藤"]),
    ("name-kana-reading", "PERSON", "山田 太郎（ヤマダ タロウ）", ["ヤマダ タロウ", "山田 太郎"]),
    ("name-romaji", "PERSON", "署名 Taro Yamada", ["Taro Yamada"]),
    ("name-surname-given", "PERSON", "担当は佐藤健一が行う。", ["佐藤健一"]),
    ("not-a-name-customer", "PERSON", "お客様各位", []),
    ("not-a-name-company", "PERSON", "発行元 小林水産株式会社", []),
]


@pytest.mark.parametrize(("entity", "text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_recognizer_table(entity: str, text: str, expected: list[str]) -> None:
    assert found(text, entity) == sorted(expected)


@pytest.mark.parametrize("body", ["12345678901", "00000000000", "98765432109", "31415926535"])
def test_my_number_check_digit_matches_the_official_formula(body: str) -> None:
    digit = my_number_check_digit(body)
    assert valid_my_number(body + str(digit))
    assert not any(valid_my_number(body + str(d)) for d in range(10) if d != digit)


# --- policy languages ----------------------------------------------------------------------------


def test_policy_names_its_languages() -> None:
    policy = parse_redaction_policy({"version": "1", "languages": ["en", "ja"], "entities": {"BANK_ACCOUNT": {}}})
    assert policy.languages == ("en", "ja") and policy.language == "en"
    legacy = parse_redaction_policy({"version": "1", "language": "en", "entities": {"PERSON": {}}})
    assert legacy.languages == ("en",)


def test_japanese_only_entity_needs_japanese_in_the_policy() -> None:
    from enclave_core.errors import PolicyError

    with pytest.raises(PolicyError, match="BANK_ACCOUNT"):
        parse_redaction_policy({"version": "1", "languages": ["en"], "entities": {"BANK_ACCOUNT": {}}})


# --- through the Redactor (GiNZA), pseudonyms, vault, guard ------------------------------------------

JA_TEXT = (
    "氏名：山田 太郎\n住所：〒160-0023 東京都新宿区西新宿2丁目8番1号\n携帯：090-1234-5678\n"
    "マイナンバー：1234 5678 9018\n法人番号 1234567890123 の株式会社サンプルに勤務。"
)


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor.from_policy_file(Path(__file__).resolve().parents[2] / "policies" / "redaction.yaml")


def test_redactor_routes_japanese_text_to_the_japanese_engine(redactor: Redactor) -> None:
    out = redactor.redact(JA_TEXT).text
    for value in ("山田 太郎", "西新宿2丁目8番1号", "090-1234-5678", "1234 5678 9018"):
        assert value not in out
    assert "1234567890123" in out  # 法人番号 is public, not personal
    english = redactor.redact("Call Jane Roe at 555-867-5309").text
    assert english == "Call <PERSON> at <PHONE_NUMBER>"
    assert set(redactor._analyzers) == {"en", "ja"}


def test_detect_many_offsets_point_into_japanese_text(redactor: Redactor) -> None:
    texts = [JA_TEXT, "ご連絡は080-0753-4182まで。"]
    spans = redactor.detect_many(texts)
    assert "080-0753-4182" in [texts[1][d.start : d.end] for d in spans[1]]
    rebuilt = texts[0]
    for d in reversed(spans[0]):
        rebuilt = rebuilt[: d.start] + redactor.policy.rule(d.entity).placeholder + rebuilt[d.end :]
    assert rebuilt == redactor.redact_many([texts[0]])[0].text


def test_pseudonyms_vault_reveal_and_erasure_round_trip(redactor: Redactor, tmp_path: Path) -> None:
    from enclave_core.pseudonymize import CollectionPii, PiiPolicy, Pseudonymizer
    from enclave_core.vault import Vault

    vault = Vault(tmp_path / "vault", bytes(range(32)))
    pii = Pseudonymizer(redactor, vault, PiiPolicy(CollectionPii(), {}))
    first, second = pii.process_many("hr", [JA_TEXT, "山田 太郎様の携帯は090-1234-5678です。"], ["d1", "d2"])
    assert "山田" not in first.text and "090-1234-5678" not in second.text
    person = next(p for p in ("<PERSON_1>", "<PERSON_2>") if p in first.text)
    assert person in second.text  # the same person, the same pseudonym, across documents
    revealed, _ = vault.reveal("hr", first.text)
    assert "山田 太郎" in revealed and "090-1234-5678" in revealed
    asked = pii.pseudonymize_query("hr", "山田 太郎の住所は？")
    assert person in asked.text
    vault.forget_document("hr", "d1")
    vault.forget_document("hr", "d2")
    assert vault.lookup("hr", "PERSON", "山田 太郎") is None


def test_output_guard_catches_japanese_phone_and_my_number(redactor: Redactor) -> None:
    answer = "担当者の電話は03-1234-5678、マイナンバーは123456789018です [1]。<PERSON_3>に確認してください。"
    guarded = redactor.guard(answer)
    assert "03-1234-5678" not in guarded.text and "123456789018" not in guarded.text
    assert "<PERSON_3>" in guarded.text and "[1]" in guarded.text
    assert guarded.counts.get("PHONE_NUMBER") == 1 and guarded.counts.get("NATIONAL_ID") == 1


AIRGAP_JA_CHILD = r"""
import json, socket, sys
attempts = []
def hook(event, args):
    if event == "socket.connect" and args[0].family != socket.AF_UNIX:
        host = args[1][0] if isinstance(args[1], tuple) else args[1]
    elif event == "socket.getaddrinfo":
        host = args[0]
    else:
        return
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host in ("127.0.0.1", "::1", "localhost", ""):
        return
    attempts.append(f"{event} {host}")
    raise OSError("air gap")
sys.addaudithook(hook)
from enclave_core.policy import policies_dir
from enclave_core.redaction import Redactor
r = Redactor.from_policy_file(policies_dir() / "redaction.yaml")
out = r.redact("山田 太郎様の携帯は090-1234-5678です。").text
print(json.dumps({"attempts": attempts, "text": out}, ensure_ascii=False))
"""


def test_japanese_engine_loads_and_redacts_without_network() -> None:
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", AIRGAP_JA_CHILD], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["attempts"] == []
    assert report["text"] == "<PERSON>様の携帯は<PHONE_NUMBER>です。"
