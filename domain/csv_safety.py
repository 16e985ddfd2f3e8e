"""CSV cells a spreadsheet will not run as formulas (OWASP "CSV injection").

A text cell starting with = + - @ tab or carriage return is prefixed with an apostrophe, so Excel,
LibreOffice and Numbers show it as text. Numbers are left alone: -3 is a number, not a formula.

`safe_text` / `restore_text` are for data-exchange files (the HSDS CSV package) that other
systems read back: they neutralise the same cells but keep phone numbers and signed numbers
("+46 40 12 34 56", "-3.5") as they are, and `restore_text` undoes `safe_text` exactly, so an
export imported again gives back what was exported.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
# + or - followed only by digits and the punctuation of phone numbers and decimals.
_NUMBER_LIKE = re.compile(r"[+\-][\d\s.,/()\-]*")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(DANGEROUS_FIRST):
        return "'" + value
    return value


def _formula_like(text: str) -> bool:
    if not text.startswith(DANGEROUS_FIRST):
        return False
    return not (text[0] in "+-" and _NUMBER_LIKE.fullmatch(text))


def _needs_quote(text: str) -> bool:
    """A formula, or an apostrophe in front of what would need one (so restoring is exact)."""
    while text.startswith("'"):
        text = text[1:]
        if _formula_like(text):
            return True
    return _formula_like(text)


def safe_text(value: object) -> object:
    """A text cell for an exchange file: formulas get an apostrophe in front; phone numbers and
    signed numbers stay as they are. Anything that is not a string is returned unchanged."""
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def restore_text(value: object) -> object:
    """The inverse of `safe_text`: the apostrophe it added is removed, anything else is kept."""
    if isinstance(value, str) and value.startswith("'") and _needs_quote(value[1:]):
        return value[1:]
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text with a header row, every text cell made safe; starts with ONE byte-order mark
    (UTF-8 with BOM, for Excel on Windows): callers encode it as it is and add no BOM of their own."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return "\ufeff" + buffer.getvalue()
