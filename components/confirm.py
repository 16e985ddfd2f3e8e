"""Confirmation before destructive actions, as a dialog that works the same in the browser (where a
dialog reruns alone, as a fragment) and in AppTest (where the whole page reruns).

`ask(key, payload)` opens it; `confirm_dialog(key, ...)` on every run shows it while it is open and
runs `on_yes(payload)` inside the dialog when confirmed; Cancel or closing the dialog forgets it.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components.i18n import show_service_error, t
from services.errors import ServiceError


def _state_key(key: str) -> str:
    return f"_confirm_{key}"


def ask(key: str, payload: object) -> None:
    st.session_state[_state_key(key)] = payload


def confirm_dialog(
    key: str, *, title: str, body: Callable[[object], str], on_yes: Callable[[object], str | None]
) -> None:
    """`on_yes` returns a success notice (shown after the rerun) or raises ServiceError (shown in place)."""
    payload = st.session_state.get(_state_key(key))
    if payload is None:
        return

    def forget() -> None:
        st.session_state.pop(_state_key(key), None)

    @st.dialog(title, on_dismiss=forget)
    def show() -> None:
        st.write(body(payload))
        yes, no = st.columns(2)
        if yes.button(t("confirm.yes"), type="primary", key=f"{key}_yes"):
            try:
                notice = on_yes(payload)
            except ServiceError as error:
                show_service_error(error)
                return
            forget()
            if notice:
                st.session_state[f"_notice_{key}"] = notice
            st.rerun()
        if no.button(t("confirm.no"), key=f"{key}_no"):
            forget()
            st.rerun()

    show()


def pop_notice(key: str) -> str | None:
    return st.session_state.pop(f"_notice_{key}", None)


def push_notice(key: str, notice: str) -> None:
    """A success message to show after the next rerun (pair with pop_notice)."""
    st.session_state[f"_notice_{key}"] = notice
