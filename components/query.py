"""Reading a page's subject from its URL (`?id=`, `?patient=`): ids are digits only, never trusted."""

from __future__ import annotations

import streamlit as st


def query_id(name: str) -> int | None:
    """The positive whole number in query parameter `name`, or None for anything else."""
    raw = st.query_params.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 12 and int(raw) > 0 else None
