"""`t()`: the UI's one way to show text, in the language of this browser session."""

from __future__ import annotations

import streamlit as st

from locales import DEFAULT_LANGUAGE, LANGUAGES, translate
from services.errors import ServiceError


def current_language() -> str:
    lang = st.session_state.get("lang", DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, /, **params: object) -> str:
    return translate(key, current_language(), **params)


def error_text(error: ServiceError) -> str:
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
