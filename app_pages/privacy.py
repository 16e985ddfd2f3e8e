"""Privacy (admins): patients past the retention period, and anonymisation with confirmation."""

import streamlit as st

from components.confirm import ask, confirm_dialog, pop_notice
from components.i18n import show_service_error, t
from components.session import guard
from services.errors import ServiceError
from services.privacy import ANONYMISABLE_LIMIT, anonymisable, anonymise
from settings import get_settings

principal = guard("privacy")
CONFIRM = "anonymise_patient"

st.title(t("page.privacy"))
years = get_settings().retention_years
st.caption(t("privacy.intro", years=years))

if notice := pop_notice(CONFIRM):
    st.success(notice)


def _body(payload) -> str:
    return t("privacy.confirm_body", pseudonym=payload["pseudonym"], last=payload["last"])


def _do(payload) -> str:
    done = anonymise(principal, payload["id"])
    return t("privacy.done", pseudonym=done.pseudonym)


confirm_dialog(CONFIRM, title=t("privacy.confirm_title"), body=_body, on_yes=_do)

try:
    rows = anonymisable(principal)
except ServiceError as error:
    show_service_error(error)
    st.stop()

st.subheader(t("privacy.list_title", n=len(rows)))
if not rows:
    st.info(t("privacy.none", years=years))
    st.stop()
if len(rows) >= ANONYMISABLE_LIMIT:
    st.caption(t("privacy.limited", n=ANONYMISABLE_LIMIT))

st.dataframe(
    {
        t("privacy.pseudonym"): [r.pseudonym for r in rows],
        t("privacy.centre"): [r.centre_code for r in rows],
        t("privacy.last_event"): [r.last_event for r in rows],
    },
    hide_index=True,
    width="stretch",
    height=min(38 + 35 * len(rows), 420),
)

by_id = {r.patient_id: r for r in rows}
choice_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
chosen = choice_col.selectbox(
    t("privacy.choose"),
    list(by_id),
    format_func=lambda pid: f"{by_id[pid].pseudonym} · {by_id[pid].centre_code} · {by_id[pid].last_event}",
    key="privacy_choice",
)
if button_col.button(
    t("privacy.anonymise"), type="primary", key="privacy_anonymise", icon=":material/person_off:"
):
    row = by_id[chosen]
    ask(CONFIRM, {"id": row.patient_id, "pseudonym": row.pseudonym, "last": row.last_event.isoformat()})
    st.rerun()
