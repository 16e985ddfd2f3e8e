"""Matching taxonomy labels typed by people ("Äldre", "Ældre", "promenad") to terms.

Pure: no SQL, no Streamlit. A label is compared in two steps:

1. `normalise_label`: Unicode NFC, casefolded, whitespace collapsed. Å/Ä/Ö/Æ/Ø are kept, because
   they carry meaning in Nordic languages ("för" and "for" differ).
2. `fold_label`: a fallback without diacritics (ä→a, å→a, ö→o, ø→o, æ→ae, é→e, ß→ss), for labels
   typed on a keyboard without them ("Aldre", "Aeldre", "Sprakcafe"). A folded key that belongs
   to more than one term is ambiguous and dropped (see `build_index`).

Synonyms are stored on the term as a JSON list of strings (`TaxonomyTerm.synonyms`);
`parse_synonyms` / `dump_synonyms` read and write that text, `clean_synonyms` validates.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable

MAX_SYNONYM_LENGTH = 100
MAX_SYNONYMS = 40

_FOLD = str.maketrans({"æ": "ae", "ø": "o", "ß": "ss", "đ": "d", "ł": "l", "œ": "oe"})


def normalise_label(value: str) -> str:
    """Casefolded, NFC, trimmed, inner whitespace collapsed; diacritics kept."""
    text = unicodedata.normalize("NFC", str(value or "")).casefold()
    return " ".join(text.split())


def fold_label(value: str) -> str:
    """`normalise_label` without diacritics: the fallback comparison key."""
    text = normalise_label(value).translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def parse_synonyms(raw: str | None) -> list[str]:
    """The stored text (a JSON list of strings) as a list; anything else reads as no synonyms."""
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return []
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if isinstance(v, str) and v.strip()]


def dump_synonyms(synonyms: Iterable[str]) -> str:
    return json.dumps(list(synonyms), ensure_ascii=False)


def split_synonyms(text: str) -> list[str]:
    """Synonyms typed in one field: separated by commas, semicolons or new lines."""
    parts: list[str] = []
    for line in str(text or "").replace(";", ",").splitlines():
        parts.extend(p for p in line.split(","))
    return [" ".join(p.split()) for p in parts if p.strip()]


def clean_synonyms(values: Iterable[str]) -> tuple[list[str], str | None]:
    """Trimmed, de-duplicated (by `normalise_label`), in the given order; and the locale key of
    the first problem (`None` when valid)."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        text = " ".join(str(value).split())
        if not text:
            continue
        if len(text) > MAX_SYNONYM_LENGTH:
            return out, "reference.error.synonym_too_long"
        key = normalise_label(text)
        if key in seen:
            continue
        seen.add(key)
        out.append(text)
    if len(out) > MAX_SYNONYMS:
        return out, "reference.error.too_many_synonyms"
    return out, None


def build_index(terms: Iterable[tuple[int, Iterable[str]]]) -> dict[str, int]:
    """Map every normalised label and its folded fallback to a term id.

    `terms` is (term id, labels) pairs: the names in every language plus the synonyms. Exact
    (normalised) keys win over folded ones; a key claimed by two different terms is dropped,
    so an ambiguous word matches nothing rather than the wrong term."""
    exact: dict[str, int] = {}
    folded: dict[str, int] = {}
    ambiguous_exact: set[str] = set()
    ambiguous_folded: set[str] = set()
    for term_id, labels in terms:
        for label in labels:
            key = normalise_label(label)
            if not key:
                continue
            if exact.setdefault(key, term_id) != term_id:
                ambiguous_exact.add(key)
            fkey = fold_label(label)
            if folded.setdefault(fkey, term_id) != term_id:
                ambiguous_folded.add(fkey)
    for key in ambiguous_exact:
        exact.pop(key, None)
    index = {k: v for k, v in folded.items() if k not in ambiguous_folded and k not in exact}
    index.update(exact)
    return index


def lookup(index: dict[str, int], label: str) -> int | None:
    """The term id for a typed label: exact (casefolded) first, then without diacritics."""
    key = normalise_label(label)
    if not key:
        return None
    hit = index.get(key)
    if hit is not None:
        return hit
    return index.get(fold_label(label))
