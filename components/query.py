"""Reading a page's subject from its URL (`?id=`, `?patient=`): ids are digits only, never trusted."""

from __future__ import annotations

import streamlit as st


def query_id(name: str) -> int | None:
    """The positive whole number in query parameter `name`, or None for anything else.

    A valid id is written back: a link from a page to itself with another id (a moved follow-up to
    its new one) shows the new subject, but Streamlit 1.67 leaves the old id in the address bar,
    so a reload or a copied address would open the old one. Writing it back updates the address."""
    raw = st.query_params.get(name, "")
    if raw.isascii() and raw.isdigit() and 0 < len(raw) < 12 and int(raw) > 0:
        st.query_params[name] = raw
        return int(raw)
    return None
