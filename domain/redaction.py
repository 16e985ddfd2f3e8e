"""Keep national identity numbers out of free text that is stored in clear (the audit log).

A personnummer, samordningsnummer or CPR number typed where it does not belong (a login username box,
a search that failed) is replaced by a keyed tag: the same number always gives the same tag, so an
administrator can still see that one number was tried many times, but the number itself cannot be
read or recovered without the installation's key (HMAC-SHA256, its own HKDF sub-key). Pure logic,
no Streamlit, no SQL.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from domain.security import _subkey, normalise_national_id
from settings import master_key

# 10 or 12 digits, optionally split after the date (YYMMDD-NNNN, YYYYMMDD+NNNN, DDMMYY NNNN), not
# part of a longer run of digits: every form of personnummer, samordningsnummer and CPR, valid or
# mistyped (a mistyped number is still someone's).
_NATIONAL_ID = re.compile(r"(?<![0-9])(?:[0-9]{2})?[0-9]{6}[-+ ]?[0-9]{4}(?![0-9])")


def identifier_tag(value: str) -> str:
    """A short keyed tag for a national id, e.g. 'id#3f9a1c0b7d2e'."""
    key = _subkey(master_key(), b"lotsa audit redaction v1")
    digest = hmac.new(key, normalise_national_id(value)[-10:].encode(), hashlib.sha256).hexdigest()
    return f"id#{digest[:12]}"


def contains_identifier(text: str | None) -> bool:
    return bool(text) and _NATIONAL_ID.search(text) is not None


def redact_identifiers(text: str | None) -> str | None:
    """`text` with every national-id-like number replaced by its keyed tag; None stays None."""
    if not text:
        return text
    return _NATIONAL_ID.sub(lambda m: identifier_tag(m.group(0)), text)
