"""The client's address for rate limits and the login throttle (see domain.network): the connection's
own address, or, only behind a configured trusted proxy (LOTSA_TRUSTED_PROXIES), the address that
proxy reports in X-Forwarded-For."""

from __future__ import annotations

import streamlit as st

from domain.network import client_address, parse_trusted_proxies
from settings import get_settings


def client_id() -> str:
    peer = st.context.ip_address if isinstance(st.context.ip_address, str) else None
    try:
        forwarded = st.context.headers.get("X-Forwarded-For")
    except Exception:  # no request headers (e.g. a script run without a browser)
        forwarded = None
    trusted = parse_trusted_proxies(get_settings().trusted_proxies)
    return client_address(peer, str(forwarded) if forwarded else None, trusted)
