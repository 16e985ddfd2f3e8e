"""Signposting for volunteer community connectors (and connectors): a short form with no identity
(date, setting, need, the activity shown, passed on to a health connector or not), then the
user's own recent entries. Widgets keep their values on error; a double click logs one entry."""

import uuid
from datetime import date, timedelta

import streamlit as st

from components.i18n import current_language, show_service_error, t
from components.session import guard
from domain.care import NEED_CODES, NEEDS, SIGNPOST_SETTINGS
from domain.markdown_safety import md_inline
from services.directory import DirectoryFilter, facet_options, search
from services.errors import ServiceError
from services.signposting import MAX_DAYS_BACK, log_signposting, my_signpostings

principal = guard("signposting")
KEY = "sp_idempotency"
NOTICE = "sp_notice"
ERROR = "sp_error"
NO_CHOICE = 0

st.title(t("page.signposting"))
if principal.role == "volunteer":
    st.subheader(t("home.hello", name=md_inline(principal.display_name)))
st.caption(t("signposting.intro"))

if KEY not in st.session_state:
    st.session_state[KEY] = str(uuid.uuid4())

LABELS = {
    "logged_on": t("signposting.date"),
    "setting": t("signposting.setting"),
    "need": t("signposting.need"),
    "municipality_id": t("signposting.municipality"),
    "service_id": t("signposting.activity"),
    "passed_to_connector": t("signposting.passed"),
}

lang = current_language()
municipalities = facet_options(lang).municipalities


def _save() -> None:
    """Runs before the rerun, so the form can be reset after a successful save."""
    state = st.session_state
    try:
        saved = log_signposting(
            principal,
            setting=state["sp_setting"],
            need=state["sp_need"],
            service_id=state.get("sp_service") or None,
            passed_to_connector=bool(state.get("sp_passed")),
            municipality_id=state.get("sp_municipality") or None,
            logged_on=state["sp_date"],
            idempotency_key=state[KEY],
        )
    except ServiceError as error:
        state[ERROR] = error
        return
    state.pop(ERROR, None)
    state[NOTICE] = t(
        "signposting.saved",
        need=t(f"patients.need_{saved.need}"),
        activity=saved.service_name or t("signposting.no_activity"),
    )
    state[KEY] = str(uuid.uuid4())
    # Keep date, setting and municipality (the next person is likely in the same place).
    for key in ("sp_need", "sp_service", "sp_passed"):
        state.pop(key, None)


today = date.today()
with st.container(border=True):
    first, second = st.columns(2)
    first.date_input(
        LABELS["logged_on"],
        value=today,
        min_value=today - timedelta(days=MAX_DAYS_BACK),
        max_value=today,
        key="sp_date",
        format="YYYY-MM-DD",
    )
    second.selectbox(
        LABELS["setting"],
        SIGNPOST_SETTINGS,
        format_func=lambda c: t(f"signposting.setting_{c}"),
        key="sp_setting",
    )
    first.selectbox(
        LABELS["municipality_id"],
        [NO_CHOICE, *municipalities],
        format_func=lambda m: municipalities.get(m, t("signposting.any_municipality")),
        key="sp_municipality",
    )
    need = second.selectbox(
        LABELS["need"], NEED_CODES, format_func=lambda c: t(f"patients.need_{c}"), key="sp_need"
    )
    municipality = st.session_state.get("sp_municipality") or NO_CHOICE
    flt = DirectoryFilter(
        categories=NEEDS.get(need, ()),
        municipality_ids=(municipality,) if municipality else (),
    )
    found, total = search(flt, page_size=100, lang=lang)
    services = {row.id: row for row in found}
    if st.session_state.get("sp_service") not in (NO_CHOICE, None, *services):
        st.session_state["sp_service"] = NO_CHOICE
    st.selectbox(
        LABELS["service_id"],
        [NO_CHOICE, *services],
        format_func=lambda sid: (
            f"{services[sid].name} · {services[sid].organization}"
            if sid in services
            else t("signposting.no_activity")
        ),
        key="sp_service",
        help=t("signposting.activity_help", n=total),
    )
    st.checkbox(LABELS["passed_to_connector"], key="sp_passed", help=t("signposting.passed_help"))
    st.button(t("signposting.save"), type="primary", on_click=_save, key="sp_save", icon=":material/check:")
    st.caption(t("signposting.no_identity"))

if error := st.session_state.pop(ERROR, None):
    show_service_error(error, LABELS)
if notice := st.session_state.pop(NOTICE, None):
    st.success(notice, icon=":material/check_circle:")

st.subheader(t("signposting.recent"))
try:
    mine = my_signpostings(principal, limit=20)
except ServiceError as error:
    show_service_error(error)
    mine = []
if not mine:
    st.caption(t("signposting.none_yet"))
else:
    st.dataframe(
        {
            t("signposting.date"): [row.logged_on for row in mine],
            t("signposting.setting"): [t(f"signposting.setting_{row.setting}") for row in mine],
            t("signposting.need"): [t(f"patients.need_{row.need}") for row in mine],
            t("signposting.activity"): [row.service_name or "" for row in mine],
            t("signposting.municipality"): [row.municipality_name or "" for row in mine],
            t("signposting.passed_short"): [row.passed_to_connector for row in mine],
        },
        hide_index=True,
        width="stretch",
    )
