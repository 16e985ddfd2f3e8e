"""`t()`: the UI's one way to show text, in the language of this browser session."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from locales import DEFAULT_LANGUAGE, LANGUAGES, catalogue, translate
from locales.formatting import (
    format_date,
    format_number,
    format_percent,
    localize_numbers,
    plotly_separators,
    plural,
    shown_decimals,
)
from services.errors import ServiceError


def current_language() -> str:
    lang = st.session_state.get("lang", DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, /, **params: object) -> str:
    return translate(key, current_language(), **params)


def tn(key: str, count: float, /, **params: object) -> str:
    """The plural form of `key` (`<key>.one` / `<key>.other`) for `count`, `{count}` formatted."""
    return plural(key, count, current_language(), **params)


def fmt_number(value: float | None, decimals: int = 0) -> str:
    return format_number(value, current_language(), decimals)


def fmt_percent(fraction: float | None, decimals: int = 0) -> str:
    return format_percent(fraction, current_language(), decimals)


def fmt_numbers(text: str) -> str:
    """A service's figure text ("65.8", "1 234.5", "0.52 (0.10–0.94)") in the user's separators."""
    return localize_numbers(text, current_language())


def display_column(values: list) -> list:
    """A table column as shown: numbers (not bools) as text in the user's language, each with the
    decimals of the column's most precise value so the column lines up; figure texts reformatted.
    The CSV download keeps the numbers themselves."""
    numeric = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    decimals = shown_decimals(numeric)
    if not numeric and not any(isinstance(v, str) for v in values):
        return values
    lang = current_language()
    shown = []
    for v in values:
        if v is None and numeric:
            shown.append(format_number(None, lang))  # "–", like a withheld figure
        elif isinstance(v, int | float) and not isinstance(v, bool):
            shown.append(format_number(v, lang, decimals))
        elif isinstance(v, str):
            shown.append(localize_numbers(v, lang))
        else:
            shown.append(v)
    return shown


def localize_figure(fig):
    """A Plotly figure that writes numbers (hover, axes, labels) in the user's language."""
    lang = current_language()
    fig.update_layout(separators=plotly_separators(lang))
    for trace in fig.data:
        text = getattr(trace, "text", None)
        if isinstance(text, list | tuple):
            trace.text = [localize_numbers(v, lang) if isinstance(v, str) else v for v in text]
    for note in fig.layout.annotations or ():
        if isinstance(note.text, str):
            note.text = localize_numbers(note.text, lang)
    return fig


def fmt_date(value: dt.date | None, style: str = "short") -> str:
    return format_date(value, current_language(), style)


def audit_label(kind: str, code: str) -> str:
    """An audit action ("patient.read") or outcome ("denied") in words (`kind` "action" or
    "result"); a code the catalogue does not know yet is shown as it is."""
    key = f"audit.{kind}.{code}"
    return t(key) if key in catalogue(DEFAULT_LANGUAGE) else code


def error_text(error: ServiceError) -> str:
    """The error in words; a `count` parameter picks the plural form where the key has them."""
    return t(error.key, **error.params)


def field_errors(error: ServiceError) -> dict[str, str]:
    """A validation error's per-field messages, translated."""
    fields = getattr(error, "fields", {}) or {}
    return {name: t(key, **params) for name, (key, params) in fields.items()}


def show_service_error(error: ServiceError, labels: dict[str, str] | None = None) -> None:
    """Show what is wrong, field by field (named by its label), without clearing the form."""
    messages = field_errors(error)
    if messages:
        labels = labels or {}
        lines = [f"- **{labels[name]}**: {m}" if name in labels else f"- {m}" for name, m in messages.items()]
        st.error(t(error.key) + "\n\n" + "\n".join(lines))
    else:
        st.error(error_text(error))
