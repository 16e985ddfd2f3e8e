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
