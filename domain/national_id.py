"""Swedish personnummer / samordningsnummer and Danish CPR: parse and validate.

Personnummer: YYMMDD(-|+)NNNC or YYYYMMDDNNNC, C a Luhn check digit over the 10-digit form;
a samordningsnummer adds 60 to the day. CPR: DDMMYY-SSSS; only the date part is validated
(the modulus-11 check was dropped in 2007).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_SE = re.compile(r"^(\d{2})?(\d{2})(\d{2})(\d{2})([-+]?)(\d{3})(\d)$")
_DK = re.compile(r"^(\d{2})(\d{2})(\d{2})-?(\d{4})$")


@dataclass(frozen=True)
class NationalId:
    country: str  # SE or DK
    normalised: str  # SE: YYYYMMDDNNNC; DK: DDMMYYSSSS
    birth_date: date
    coordination: bool = False


class InvalidNationalId(ValueError):
    """`reason` is a locale key suffix: format, checksum, date."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _real_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_personnummer(value: str, *, today: date | None = None) -> NationalId:
    today = today or date.today()
    m = _SE.match(value.strip().replace(" ", ""))
    if not m:
        raise InvalidNationalId("format")
    century, yy, mm, dd, sep, serial, check = m.groups()
    if not luhn_ok(f"{yy}{mm}{dd}{serial}{check}"):
        raise InvalidNationalId("checksum")
    day = int(dd)
    coordination = day > 60
    if coordination:
        day -= 60
    if century:
        year = int(century + yy)
    else:
        year = 2000 + int(yy)
        if year > today.year:
            year -= 100
        if sep == "+":
            year -= 100
    born = _real_date(year, int(mm), day)
    if born is None or born > today:
        raise InvalidNationalId("date")
    return NationalId("SE", f"{year:04d}{mm}{dd}{serial}{check}", born, coordination)


def parse_cpr(value: str, *, today: date | None = None) -> NationalId:
    today = today or date.today()
    m = _DK.match(value.strip().replace(" ", ""))
    if not m:
        raise InvalidNationalId("format")
    dd, mm, yy, serial = m.groups()
    year = 2000 + int(yy)
    if year > today.year:
        year -= 100
    born = _real_date(year, int(mm), int(dd))
    if born is None:
        raise InvalidNationalId("date")
    return NationalId("DK", f"{dd}{mm}{yy}{serial}", born)


def parse_national_id(value: str, country: str, *, today: date | None = None) -> NationalId:
    if country == "DK":
        return parse_cpr(value, today=today)
    return parse_personnummer(value, today=today)
