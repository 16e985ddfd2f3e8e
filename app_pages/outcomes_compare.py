"""Placeholder while issue 5 is built; replaced by the real page."""

import streamlit as st

from components.i18n import t
from components.session import guard

guard("outcomes_compare")
st.title(t("page.outcomes_compare"))
