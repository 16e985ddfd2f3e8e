"""The language picker: remembered in the session, and per user once logged in."""

from __future__ import annotations

import streamlit as st

from components.i18n import current_language, t
from locales import LANGUAGE_NAMES, LANGUAGES
from services.auth import set_language
from services.principal import Principal


def language_picker(principal: Principal | None = None, *, key: str = "language_picker") -> None:
    choice = st.segmented_control(
        t("account.language"),
        options=list(LANGUAGES),
        format_func=LANGUAGE_NAMES.get,
        default=current_language(),
        key=key,
        label_visibility="collapsed",
    )
    if choice and choice != current_language():
        st.session_state["lang"] = choice
        if principal is not None:
            set_language(principal, choice)
        st.rerun()


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def translate_streamlit_texts() -> None:
    """Texts that Streamlit 1.67's file uploader writes itself in English ("Upload", "200MB per
    file • CSV") and lets no page set: replaced by the session language's through CSS (a style-only
    st.html goes to the event container and takes no space)."""
    button, hint = _css_string(t("widget.upload")), _css_string(t("widget.upload_hint"))
    st.html(
        "<style>"
        '[data-testid="stFileUploaderDropzone"] button *{font-size:0!important}'
        f'[data-testid="stFileUploaderDropzone"] button::after{{content:{button};font-size:0.875rem}}'
        '[data-testid="stFileUploaderDropzoneInstructions"] *{font-size:0!important}'
        f'[data-testid="stFileUploaderDropzoneInstructions"]::after{{content:{hint};font-size:0.8rem;opacity:0.7}}'
        "</style>"
    )
