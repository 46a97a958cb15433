"""Enclave's labelled synthetic Japanese PII set: Faker ``ja_JP`` values in sentence shapes of our own.

Each template is a passage shape from a Japanese office genre (社員名簿, 請求書, メール署名, 人事記録, 問い合わせ,
議事録, 休暇届, ...) with ``{slots}``; values come from Faker's ja_JP locale (names, kana readings, romaji,
addresses, e-mail) and from our own generators (My Numbers with a correct check digit, 和暦 birth
dates, phone numbers in full-width digits or +81 form, bank account numbers). Passages without
personal data but full of look-alikes (法人番号, order and invoice numbers, meeting dates, 0120 numbers)
measure false redactions.

The split is BY TEMPLATE: ``DEV`` shapes were used while writing the recognizers; ``UNSEEN`` shapes were
written apart and only scored, so the unseen figures say how the recognizers do on shapes they were
never tuned on. Output: ``benchmarks/data/pii_ja/{dev,unseen}.txt`` in the genre markup of
``benchmarks/pii_genres.py`` (``[[TYPE:value]]``, ``=== <id> <genre>``).

    .venv/bin/python -m benchmarks.pii_ja_data   # rewrites both files (deterministic, seed 21)
"""

# ruff: noqa: E501 - the templates are data: one passage shape a line reads better than wrapped strings
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from pathlib import Path

__all__ = ["DATA_DIR", "DEV", "UNSEEN", "generate", "my_number_check_digit", "write_sets"]

DATA_DIR = Path(__file__).resolve().parent / "data" / "pii_ja"
PER_TEMPLATE = 8
SEED = 21

# (template id, genre, text). Slots: {name} kanji name, {surname}, {kana} reading, {romaji},
# {phone}, {mobile}, {address}, {zip}, {mynumber}, {account}, {dob}, {age}, {email}; lower-case
# {company}, {corp}, {order}, {meeting} are not personal data.
DEV: list[tuple[str, str, str]] = [
    (
        "d01",
        "社員名簿",
        "社員番号 E{order4}　氏名：{name}（{kana}）\n所属：営業部　内線 {ext}\n携帯：{mobile}\nメール：{email}",
    ),
    (
        "d02",
        "請求書",
        "請求書番号 INV-{order}\n{company} 御中\nご担当：{name} 様\n発行元 {corp_name}（法人番号 {corp}）\nお振込先：{bank}銀行 {branch}支店 普通 {account}",
    ),
    (
        "d03",
        "メール署名",
        "――――――――――\n{company}\n総務部　{name}\nTEL: {phone}\nE-mail: {email}\n〒{zip_only} {address}\n――――――――――",
    ),
    (
        "d04",
        "人事記録",
        "【人事記録】\n氏名 {name}\n生年月日 {dob}（{age}歳）\n住所 {address}\nマイナンバー {mynumber}",
    ),
    (
        "d05",
        "問い合わせ",
        "お世話になっております。{name}と申します。先日注文した商品（注文番号 {order}）が届いておりません。ご連絡は{mobile}までお願いいたします。",
    ),
    (
        "d06",
        "議事録",
        "議事録（{meeting}開催）\n出席者：{name}、{name2}、{surname}部長\n議題：第3四半期の売上について\n次回は{meeting2}に開催する。",
    ),
    ("d07", "休暇届", "休暇届\n申請者：{name}\n期間：{meeting}から{meeting2}まで\n緊急連絡先：{phone}（自宅）"),
    ("d08", "社員名簿", "{name}（{romaji}）さんは{age}歳で、{address}に住んでいます。"),
    (
        "d09",
        "no-pii",
        "{corp_name}（法人番号 {corp}）は{meeting}に新製品を発表した。受注番号 {order}、お問い合わせはフリーダイヤル 0120-{free}まで。対象は20歳以上の方です。",
    ),
    (
        "d10",
        "問い合わせ",
        "{surname}様\nこのたびはお問い合わせいただきありがとうございます。ご登録の電話番号 {phone_fw} とメールアドレス {email} を確認しました。",
    ),
    ("d11", "人事記録", "扶養家族：配偶者 {name}（{dob}生まれ）\n個人番号：{mynumber}"),
    ("d12", "請求書", "お届け先\n{zip} {address}\n{name} 様\nお電話番号：{phone}"),
    (
        "d13",
        "no-pii",
        "第5条（支払）請求書発行日（{meeting}）から30日以内に支払う。注文番号 {order}、品番 A-{order4}。",
    ),
    ("d14", "メール署名", "{romaji}\n{company} 開発部\nMobile: {intl}\nMail: {email}"),
]
UNSEEN: list[tuple[str, str, str]] = [
    ("u01", "社員名簿", "No.{n}　{name}　{kana}　入社日 {meeting}　電話 {mobile}"),
    (
        "u02",
        "人事記録",
        "従業員情報\n・氏名：{name}\n・生年月日：{dob}\n・現住所：{address}\n・個人番号：{mynumber}\n・給与振込口座：{bank}銀行 {branch}支店 普通預金 口座番号 {account}",
    ),
    ("u03", "問い合わせ", "{name}様よりお電話（{phone}）あり。{address}在住、{age}歳。折り返し連絡希望。"),
    (
        "u04",
        "議事録",
        "【出席】{surname}課長、{name}さん、{name2}さん\n【決定事項】{meeting}までに見積書を提出する（担当：{surname2}）。",
    ),
    (
        "u05",
        "休暇届",
        "私、{name}は下記のとおり休暇を申請いたします。\n期間：{meeting}〜{meeting2}\n休暇中の連絡先：{mobile}／{email}",
    ),
    ("u06", "メール署名", "{company}\n{name} / {romaji}\n〒{zip_only} {address}\nTel {phone} / Fax {phone2}"),
    (
        "u07",
        "請求書",
        "ご請求先：{name} 様（{zip} {address}）\n請求金額：{amount}円\n振込先口座：{bank}銀行 {branch}支店 当座 {account}",
    ),
    (
        "u08",
        "no-pii",
        "{corp_name}の法人番号は{corp}です。{meeting}の会議で承認された発注書 PO-{order} を送付します。対象年齢 3歳以上。",
    ),
    (
        "u09",
        "契約書",
        "本契約の当事者である{name}（以下「甲」という。生年月日：{dob}、住所：{address}）は、マイナンバー（{mynumber}）を提出する。",
    ),
    ("u10", "アンケート", "回答者：{kana}（{age}歳）／連絡先メール {email}／電話 {intl}"),
]

_BANKS = ["みずほ", "三菱UFJ", "三井住友", "りそな", "横浜", "千葉", "静岡", "福岡"]
_BRANCHES = ["渋谷", "新宿", "梅田", "名駅", "天神", "横浜駅前", "本店営業部", "池袋東口"]
_FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def my_number_check_digit(body: str) -> int:
    """Check digit of an 11-digit My Number body (the official formula, P1 = rightmost digit)."""
    digits = [int(c) for c in reversed(body)]
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(digits, start=1))
    rem = total % 11
    return 0 if rem <= 1 else 11 - rem


def _wareki(d: date) -> str:
    if d >= date(2019, 5, 1):
        era, year = "令和", d.year - 2018
    elif d >= date(1989, 1, 8):
        era, year = "平成", d.year - 1988
    else:
        era, year = "昭和", d.year - 1925
    return f"{era}{'元' if year == 1 else year}年{d.month}月{d.day}日"


def _values(fake: object, rng: random.Random) -> dict[str, Callable[[], str]]:
    f: object = fake

    def name() -> str:
        return f"[[PERSON:{f.name()}]]"  # type: ignore[attr-defined]

    def dob_value() -> str:
        d = f.date_of_birth(minimum_age=20, maximum_age=70)  # type: ignore[attr-defined]
        choice = rng.random()
        if choice < 0.4:
            return _wareki(d)
        if choice < 0.8:
            return f"{d.year}年{d.month}月{d.day}日"
        return f"{d.year}/{d.month:02d}/{d.day:02d}"

    def mynumber() -> str:
        body = "".join(rng.choice("0123456789") for _ in range(11))
        full = body + str(my_number_check_digit(body))
        return full if rng.random() < 0.5 else f"{full[:4]} {full[4:8]} {full[8:]}"

    def fixed_phone() -> str:
        area = rng.choice(["03", "06", "045", "052", "092", "011", "0466"])
        rest = 10 - len(area)
        mid = 4 if len(area) == 2 else (3 if len(area) == 3 else 2)
        digits = "".join(rng.choice("0123456789") for _ in range(rest))
        return (
            f"{area}-{digits[:mid]}-{digits[mid:]}"
            if mid + 4 == rest
            else f"{area}-{digits[: rest - 4]}-{digits[rest - 4 :]}"
        )

    def mobile() -> str:
        d = "".join(rng.choice("0123456789") for _ in range(8))
        return f"{rng.choice(['070', '080', '090'])}-{d[:4]}-{d[4:]}"

    def corp() -> str:
        return "".join(rng.choice("0123456789") for _ in range(13))

    return {
        "name": name,
        "name2": name,
        "surname": lambda: f"[[PERSON:{f.last_name()}]]",  # type: ignore[attr-defined]
        "surname2": lambda: f"[[PERSON:{f.last_name()}]]",  # type: ignore[attr-defined]
        "kana": lambda: f"[[PERSON:{f.kana_name()}]]",  # type: ignore[attr-defined]
        "romaji": lambda: f"[[PERSON:{f.first_romanized_name()} {f.last_romanized_name()}]]",  # type: ignore[attr-defined]
        "phone": lambda: f"[[PHONE_NUMBER:{fixed_phone()}]]",
        "phone2": lambda: f"[[PHONE_NUMBER:{fixed_phone()}]]",
        "phone_fw": lambda: f"[[PHONE_NUMBER:{mobile().translate(_FULL_WIDTH)}]]",
        "mobile": lambda: f"[[PHONE_NUMBER:{mobile()}]]",
        "intl": lambda: f"[[PHONE_NUMBER:+81 {mobile()[1:]}]]",
        "address": lambda: f"[[STREET_ADDRESS:{f.address()}]]",  # type: ignore[attr-defined]
        "zip": lambda: f"[[STREET_ADDRESS:〒{f.zipcode()}]]",  # type: ignore[attr-defined]
        "zip_only": lambda: f"[[STREET_ADDRESS:{f.zipcode()}]]",  # type: ignore[attr-defined]
        "mynumber": lambda: f"[[NATIONAL_ID:{mynumber()}]]",
        "account": lambda: f"[[BANK_ACCOUNT:{rng.randint(0, 9_999_999):07d}]]",
        "dob": lambda: f"[[DATE_OF_BIRTH:{dob_value()}]]",
        "age": lambda: f"[[AGE:{rng.randint(20, 69)}]]",
        "email": lambda: f"[[EMAIL_ADDRESS:{f.email()}]]",  # type: ignore[attr-defined]
        "company": lambda: f.company(),  # type: ignore[attr-defined]
        "corp_name": lambda: f.company(),  # type: ignore[attr-defined]
        "corp": corp,
        "order": lambda: f"{rng.randint(2020, 2025)}{rng.randint(0, 99_999_999):08d}",
        "order4": lambda: f"{rng.randint(0, 9999):04d}",
        "ext": lambda: f"{rng.randint(100, 999)}",
        "n": lambda: str(rng.randint(1, 300)),
        "free": lambda: f"{rng.randint(100, 999)}-{rng.randint(100, 999)}",
        "amount": lambda: f"{rng.randint(10, 999)},{rng.randint(0, 999):03d}",
        "bank": lambda: rng.choice(_BANKS),
        "branch": lambda: rng.choice(_BRANCHES),
        "meeting": lambda: _meeting(rng),
        "meeting2": lambda: _meeting(rng),
    }


def _meeting(rng: random.Random) -> str:
    return f"{rng.randint(2024, 2026)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"


def generate(templates: list[tuple[str, str, str]], seed: int = SEED, per_template: int = PER_TEMPLATE) -> str:
    """The markup text for ``templates``, ``per_template`` passages each, deterministic for ``seed``."""
    from faker import Faker

    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    values = _values(fake, rng)
    out: list[str] = []
    for template_id, genre, text in templates:
        for k in range(per_template):
            slots = {key: fn() for key, fn in values.items()}
            out.append(f"=== {template_id}-{k} {genre}\n{text.format(**slots)}")
    return "\n".join(out) + "\n"


def write_sets(directory: Path = DATA_DIR) -> list[Path]:
    """Write dev.txt and unseen.txt (each set from its own templates and seed)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, templates, seed in (("dev", DEV, SEED), ("unseen", UNSEEN, SEED + 1)):
        path = directory / f"{name}.txt"
        path.write_text(generate(templates, seed), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_sets():
        print(f"written: {p}")
