"""Checksums of national identifiers Presidio does not validate (rows of ``identifiers.ID_SPECS``).

Each function takes the matched text (separators allowed) and says whether its check digit(s) hold.
A checksum alone is weak evidence (a 9-13 digit order number passes a mod-11 check one time in
eleven), so most rows that use these also need their keyword; see ``identifiers``.
Algorithms as published by the issuing administrations (or their standards: ISO 7064, Luhn, EAN-13).
"""

from __future__ import annotations

import regex as re

__all__ = [
    "valid_at_svnr",
    "valid_au_medicare",
    "valid_au_tfn",
    "valid_be_nn",
    "valid_bg_egn",
    "valid_ch_ahv",
    "valid_cl_rut",
    "valid_cz_birth_number",
    "valid_ee_personal_code",
    "valid_gr_amka",
    "valid_hr_oib",
    "valid_ie_ppsn",
    "valid_il_id",
    "valid_is_kennitala",
    "valid_kr_rrn",
    "valid_pt_nif",
    "valid_ro_cnp",
    "valid_sg_nric",
    "valid_tr_tckn",
    "valid_za_id",
]


def _d(value: str) -> list[int]:
    return [int(c) for c in re.sub(r"\D", "", value)]


def _weighted(digits: list[int], weights: tuple[int, ...] | list[int]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False))


def _luhn(digits: list[int]) -> bool:
    total = 0
    for k, d in enumerate(reversed(digits)):
        if k % 2:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return bool(digits) and total % 10 == 0


def valid_ch_ahv(value: str) -> bool:
    """Swiss AHV/AVS number 756.XXXX.XXXX.XC: EAN-13 check digit."""
    d = _d(value)
    if len(d) != 13 or d[:3] != [7, 5, 6]:
        return False
    total = sum(x * (3 if k % 2 else 1) for k, x in enumerate(d[:12]))
    return (10 - total % 10) % 10 == d[12]


def valid_be_nn(value: str) -> bool:
    """Belgian national register number YY.MM.DD-SSS.CC: 97 - (first nine mod 97), "2" prefixed after 2000."""
    d = "".join(map(str, _d(value)))
    if len(d) != 11:
        return False
    base, check = int(d[:9]), int(d[9:])
    return check in (97 - base % 97, 97 - int("2" + d[:9]) % 97)


def valid_at_svnr(value: str) -> bool:
    """Austrian social insurance number NNNC DDMMYY: weighted check digit in fourth place."""
    d = _d(value)
    if len(d) != 10 or d[0] == 0:
        return False
    total = _weighted(d[:3] + d[4:], (3, 7, 9, 5, 8, 4, 2, 1, 6)) % 11
    return total != 10 and total == d[3]


def valid_ie_ppsn(value: str) -> bool:
    """Irish PPS number: seven digits, a check letter, an optional second letter (mod 23)."""
    m = re.fullmatch(r"(\d{7})([A-W])([A-IW]?)", re.sub(r"[\s-]", "", value.upper()))
    if m is None:
        return False
    total = _weighted(_d(m.group(1)), (8, 7, 6, 5, 4, 3, 2))
    if m.group(3):
        total += 9 * (0 if m.group(3) == "W" else ord(m.group(3)) - 64)
    return "WABCDEFGHIJKLMNOPQRSTUV"[total % 23] == m.group(2)


def valid_pt_nif(value: str) -> bool:
    """Portuguese NIF: nine digits, mod-11 check digit (10 reads 0)."""
    d = _d(value)
    if len(d) != 9 or d[0] not in (1, 2, 3, 5, 6, 8, 9):
        return False
    check = 11 - _weighted(d[:8], (9, 8, 7, 6, 5, 4, 3, 2)) % 11
    return (0 if check >= 10 else check) == d[8]


def valid_ro_cnp(value: str) -> bool:
    """Romanian CNP: 13 digits, weights 279146358279 mod 11 (10 reads 1)."""
    d = _d(value)
    if len(d) != 13 or d[0] == 0:
        return False
    check = _weighted(d[:12], (2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9)) % 11
    return (1 if check == 10 else check) == d[12]


def valid_tr_tckn(value: str) -> bool:
    """Turkish T.C. Kimlik No: 11 digits, two check digits."""
    d = _d(value)
    if len(d) != 11 or d[0] == 0:
        return False
    tenth = (sum(d[0:9:2]) * 7 - sum(d[1:8:2])) % 10
    return tenth == d[9] and sum(d[:10]) % 10 == d[10]


def valid_za_id(value: str) -> bool:
    """South African identity number: 13 digits (YYMMDD...), Luhn."""
    d = _d(value)
    return len(d) == 13 and 1 <= int(f"{d[2]}{d[3]}") <= 12 and _luhn(d)


def valid_il_id(value: str) -> bool:
    """Israeli Teudat Zehut: nine digits (left-padded), Luhn."""
    d = _d(value)
    return 5 <= len(d) <= 9 and _luhn([0] * (9 - len(d)) + d)


def valid_kr_rrn(value: str) -> bool:
    """South Korean resident registration number YYMMDD-SXXXXXX (check digit on numbers issued before 2020)."""
    d = _d(value)
    if len(d) != 13 or d[6] not in range(1, 9):
        return False
    total = _weighted(d[:12], (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5))
    return (11 - total % 11) % 10 == d[12]


def valid_sg_nric(value: str) -> bool:
    """Singapore NRIC / FIN: prefix letter, seven digits, check letter."""
    m = re.fullmatch(r"([STFGM])(\d{7})([A-Z])", value.upper())
    if m is None:
        return False
    prefix, digits, letter = m.group(1), _d(m.group(2)), m.group(3)
    total = _weighted(digits, (2, 7, 6, 5, 4, 3, 2)) + {"S": 0, "T": 4, "F": 0, "G": 4, "M": 3}[prefix]
    table = {"S": "JZIHGFEDCBA", "T": "JZIHGFEDCBA", "F": "XWUTRQPNMLK", "G": "XWUTRQPNMLK", "M": "KLJNPQRTUWX"}
    index = total % 11 if prefix != "M" else 10 - total % 11
    return table[prefix][index] == letter


def valid_au_tfn(value: str) -> bool:
    """Australian tax file number: eight or nine digits, weighted sum divisible by 11."""
    d = _d(value)
    weights = (1, 4, 3, 7, 5, 8, 6, 9, 10) if len(d) == 9 else (10, 7, 8, 4, 6, 3, 5, 1)
    return len(d) in (8, 9) and _weighted(d, weights) % 11 == 0


def valid_au_medicare(value: str) -> bool:
    """Australian Medicare card number: ten (or eleven) digits, check digit in ninth place."""
    d = _d(value)
    return len(d) in (10, 11) and 2 <= d[0] <= 6 and _weighted(d[:8], (1, 3, 7, 9, 1, 3, 7, 9)) % 10 == d[8]


def valid_cl_rut(value: str) -> bool:
    """Chilean RUT/RUN: digits, dash, mod-11 verifier (K for 10)."""
    m = re.fullmatch(r"([\d.]{7,12})-?([\dkK])", value.strip())
    if m is None:
        return False
    digits = _d(m.group(1))
    total = sum(d * (2 + k % 6) for k, d in enumerate(reversed(digits)))
    check = 11 - total % 11
    expected = "0" if check == 11 else "K" if check == 10 else str(check)
    return expected == m.group(2).upper()


def valid_hr_oib(value: str) -> bool:
    """Croatian OIB: 11 digits, ISO 7064 MOD 11,10."""
    d = _d(value)
    if len(d) != 11:
        return False
    rest = 10
    for x in d[:10]:
        rest = (x + rest) % 10 or 10
        rest = rest * 2 % 11
    return (11 - rest) % 10 == d[10]


def valid_cz_birth_number(value: str) -> bool:
    """Czech / Slovak birth number YYMMDD/XXXX: the ten digits divisible by 11 (or the 1954-1985 exception)."""
    d = "".join(map(str, _d(value)))
    if len(d) != 10:
        return False
    month = int(d[2:4]) % 50 % 20
    if not 1 <= month <= 12:
        return False
    return int(d) % 11 == 0 or (int(d[:9]) % 11 == 10 and d[9] == "0")


def valid_ee_personal_code(value: str) -> bool:
    """Estonian / Lithuanian personal code: 11 digits, two-pass mod-11 check digit."""
    d = _d(value)
    if len(d) != 11 or not 1 <= d[0] <= 6:
        return False
    check = _weighted(d[:10], (1, 2, 3, 4, 5, 6, 7, 8, 9, 1)) % 11
    if check == 10:
        check = _weighted(d[:10], (3, 4, 5, 6, 7, 8, 9, 1, 2, 3)) % 11
        check = 0 if check == 10 else check
    return check == d[10]


def valid_bg_egn(value: str) -> bool:
    """Bulgarian EGN: 10 digits, weights 2,4,8,5,10,9,7,3,6 mod 11 (10 reads 0)."""
    d = _d(value)
    if len(d) != 10:
        return False
    check = _weighted(d[:9], (2, 4, 8, 5, 10, 9, 7, 3, 6)) % 11
    return (0 if check == 10 else check) == d[9]


def valid_is_kennitala(value: str) -> bool:
    """Icelandic kennitala DDMMYY-NNCD: weights 3,2,7,6,5,4,3,2 mod 11."""
    d = _d(value)
    if len(d) != 10 or not 1 <= int(f"{d[0]}{d[1]}") % 40 <= 31:
        return False
    check = 11 - _weighted(d[:8], (3, 2, 7, 6, 5, 4, 3, 2)) % 11
    return (0 if check == 11 else check) == d[8] and check != 10


def valid_gr_amka(value: str) -> bool:
    """Greek AMKA: 11 digits starting with the birth date DDMMYY, Luhn."""
    d = _d(value)
    return len(d) == 11 and 1 <= int(f"{d[0]}{d[1]}") <= 31 and 1 <= int(f"{d[2]}{d[3]}") <= 12 and _luhn(d)
