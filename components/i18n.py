"""`t()`: the UI's one way to show text, in the language of this browser session."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from locales import DEFAULT_LANGUAGE, LANGUAGES, catalogue, translate
from locales.formatting import format_date, format_number, format_percent, plural
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
