"""Manager home: the centres the manager is responsible for, counts below LOTSA_DISCLOSURE_K suppressed."""

import streamlit as st

from components.i18n import display_column, t
from components.session import guard
from domain.markdown_safety import md_inline
from services.dashboards import disclosure_rules
from services.home import current_quarter, manager_centres

principal = guard("home_manager")
rows = manager_centres(principal)
quarter = current_quarter().label()  # "2026 Q4", as the dashboards name a period

st.title(t("home.hello", name=md_inline(principal.display_name)))
st.page_link("app_pages/directory_upkeep.py", label=t("home.upkeep_link"), icon=":material/fact_check:")
st.subheader(t("home.manager.centres"))
if not rows:
    st.info(t("home.manager.empty"))
else:
    st.dataframe(
        {
            t("home.manager.centre"): [r.centre for r in rows],
            # counts as text in the user's language ("1 234"; "<5" where suppressed)
            t("home.manager.patients"): display_column([r.patients for r in rows]),
            t("home.manager.screened_in", period=quarter): display_column([r.screened for r in rows]),
            t("home.manager.referrals_in", period=quarter): display_column([r.referrals for r in rows]),
        },
        hide_index=True,
        width="stretch",
    )
    st.caption(t("home.manager.suppression_note_k", k=disclosure_rules().k))
