"""Numbers, percentages, dates and plural forms in the conventions of Swedish, Danish and English.

Pure functions over Babel's CLDR data (no Streamlit): the UI wraps them with the session language
(components/i18n.py), services and reports call them with an explicit language.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from numbers import Real

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol

from locales import DEFAULT_LANGUAGE, LANGUAGES, catalogue, translate

LOCALES = {"sv": "sv_SE", "da": "da_DK", "en": "en_GB"}
MISSING = "–"


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(LOCALES.get(lang, LOCALES[DEFAULT_LANGUAGE]))


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _pattern(decimals: int) -> str:
    decimals = max(0, int(decimals))
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def format_number(value: Real | None, lang: str, decimals: int = 0) -> str:
    """`value` rounded to exactly `decimals` places with the language's separators
    ("1 234,5" in sv, "1.234,5" in da, "1,234.5" in en); "–" for a missing value."""
    if _missing(value):
        return MISSING
    return format_decimal(value, format=_pattern(decimals), locale=_locale(lang))


def format_percent(fraction: Real | None, lang: str, decimals: int = 0) -> str:
    """A fraction (0.125) as a percentage ("12,5 %" in sv and da, "12.5%" in en)."""
    if _missing(fraction):
        return MISSING
    number = format_number(float(fraction) * 100, lang, decimals)
    # CLDR: Swedish and Danish put a no-break space before the sign, English none.
    return f"{number}%" if lang == "en" else f"{number}\u00a0%"


def format_date(value: dt.date | dt.datetime | None, lang: str, style: str = "short") -> str:
    """A date in the language's convention: 2026-12-03 (sv), 03.12.2026 (da), 03/12/2026 (en);
    `style` "medium" or "long" spells the month."""
    if value is None:
        return MISSING
    if isinstance(value, dt.datetime):
        value = value.date()
    return _babel_date(value, format=style, locale=_locale(lang))


def plural_form(count: Real, lang: str) -> str:
    """The CLDR plural category of `count` in `lang` ("one" or "other" for sv, da and en)."""
    return _locale(lang).plural_form(abs(count))


def plural(key: str, count: Real, lang: str, /, **params: object) -> str:
    """The catalogue text `<key>.one` or `<key>.other` chosen by Babel's plural rule for `count`,
    with `{count}` formatted in the language ("1 aktivitet", "2 aktiviteter", "1 234 aktiviteter").
    Falls back to `<key>.other` when a language has no text for the form."""
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    form = plural_form(count, lang)
    chosen = f"{key}.{form}"
    if chosen not in catalogue(lang) and chosen not in catalogue(DEFAULT_LANGUAGE):
        chosen = f"{key}.other"
    decimals = 0 if float(count).is_integer() else 1
    params.setdefault("count", format_number(count, lang, decimals))
    return translate(chosen, lang, **params)


# Numbers that arrive as text from the services, and charts ------------------------------------

# A number as the services write it: thin-space thousands ("12 345"), a decimal point, an optional
# minus (ASCII or U+2212). Bounded so that dates ("2026-03") and codes are not taken apart.
_SERVICE_NUMBER = re.compile(
    r"(?<![\d.,\u202f])(?<!\d-)(\d{1,3}(?:\u202f\d{3})+|\d+)(?:\.(\d+))?(?![\d.,\u202f]|-\d)"
)
_NUMBERS_ONLY = re.compile(r"[\d\s.,\u202f%()<>*–−+/-]+")
MAX_DECIMALS = 4


def localize_numbers(text: str, lang: str) -> str:
    """A text of numbers alone (a figure such as "65.8", "1 234.5" or "0.52 (0.10–0.94)") in the
    language's separators. A text with words in it is left as it is (a name such as "HSDS 3.0"),
    and so is a plain whole number (a year or an already formatted count)."""
    if not isinstance(text, str) or not _NUMBERS_ONLY.fullmatch(text):
        return text

    def shown(match: re.Match) -> str:
        whole, fraction = match.group(1), match.group(2)
        if fraction is None and "\u202f" not in whole:
            return match.group(0)
        value = Decimal(whole.replace("\u202f", "") + ("." + fraction if fraction else ""))
        return format_number(value, lang, len(fraction or ""))

    return _SERVICE_NUMBER.sub(shown, text)


def shown_decimals(values: Iterable[object]) -> int:
    """How many decimals a column of numbers needs so that every value shows as it was rounded
    (at most MAX_DECIMALS: float noise such as 0.30000000000000004 is not precision)."""
    places = 0
    for value in values:
        if isinstance(value, bool) or not isinstance(value, Real) or _missing(value):
            continue
        for decimals in range(places, MAX_DECIMALS + 1):
            if abs(round(float(value), decimals) - float(value)) < 1e-9:
                places = decimals
                break
        else:
            places = MAX_DECIMALS
    return places


def plotly_separators(lang: str) -> str:
    """Plotly's `layout.separators` (decimal sign, then thousands sign) from Babel's symbols."""
    locale = _locale(lang)
    return get_decimal_symbol(locale) + get_group_symbol(locale)
