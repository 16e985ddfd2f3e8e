"""Reference data for a real install: health centres, municipalities, programmes and taxonomy
terms (categories, target groups, ...) with synonyms.

Every write is admin only, validated field by field (errors carry locale keys), written in one
transaction with its audit event, or not at all. `term_index` is for matching labels typed in
imports ("Äldre", "Ældre", "Promenad") to terms.
"""

from __future__ import annotations

from sqlmodel import Session, select

from db.models import TaxonomyTerm
from domain.taxonomy import build_index, parse_synonyms


def term_index(session: Session, taxonomy: str) -> dict[str, int]:
    """Map every normalised name (sv/da/en), code and synonym of the terms of one taxonomy
    ("category", "target_group", ...) to the term id.

    Keys are `domain.taxonomy.normalise_label` (casefolded, Å/Ä/Ö/Æ/Ø kept) and, as a fallback,
    `domain.taxonomy.fold_label` (without diacritics). Look labels up with
    `domain.taxonomy.lookup(index, label)`, which tries both in that order. Words shared by two
    terms are left out, so they match nothing rather than the wrong term."""
    rows = session.exec(select(TaxonomyTerm).where(TaxonomyTerm.taxonomy == taxonomy)).all()
    return build_index(
        (t.id, [t.code, t.name_sv, t.name_da, t.name_en, *parse_synonyms(t.synonyms)]) for t in rows
    )
