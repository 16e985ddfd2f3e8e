"""The connector's caseload ("Mina patienter") on the home page: name, phone, the next action and a
link to the page where it is done, one row per patient, most urgent first."""

from __future__ import annotations

import re

import streamlit as st

from components.directory_filters import escape_md
from components.i18n import t
from domain.markdown_safety import md_inline
from services.caseload import CASELOAD_LIMIT

URGENT = ("follow_up_overdue", "follow_up_today", "referral_unanswered")
SHOW_ALL = "caseload_show_all"  # session key of the "show all" toggle the page reads first


def who_label(name: str | None, pseudonym: str) -> str:
    """ "**Greta Lind** · PXXXX" where the name may be shown, else the pseudonym alone."""
    return f"**{escape_md(name)}** · {pseudonym}" if name else f"**{pseudonym}**"


def _timepoint(months: int | None) -> str:
    return t("followup.baseline") if not months else t("followup.months", n=months)


def action_text(row) -> str:
    """The next action in words, with its date or days."""
    day = row.on.isoformat() if row.on else ""
    if row.action.startswith("follow_up_"):
        return t(
            f"caseload.action_{row.action}",
            timepoint=_timepoint(row.timepoint_months),
            day=day,
            n=abs(row.days),
        )
    if row.action.startswith("referral_"):
        return t(
            f"caseload.action_{row.action}", service=escape_md(row.service_name or ""), day=day, n=row.days
        )
    return t(f"caseload.action_{row.action}")


def _link(row) -> None:
    if row.follow_up_id is not None and row.action.startswith("follow_up_"):
        page, params, label = (
            "app_pages/follow_up.py",
            {"id": str(row.follow_up_id)},
            "caseload.open_follow_up",
        )
    elif row.referral_id is not None and row.action.startswith("referral_"):
        page, params, label = "app_pages/referral.py", {"id": str(row.referral_id)}, "caseload.open_referral"
    else:
        page, params, label = (
            "app_pages/screening.py",
            {"patient": str(row.patient_id)},
            "caseload.open_screening",
        )
    st.page_link(page, label=t(label), query_params=params, icon=":material/arrow_forward:")


def caseload_section(load) -> None:
    """Render a `services.caseload.Caseload`."""
    st.subheader(t("caseload.title"))
    st.caption(t("caseload.help"))
    if not load.rows:
        st.caption(t("caseload.empty"))
        return
    for row in load.rows:
        person, phone, action, link = st.columns([3, 2, 4, 2], vertical_alignment="center")
        with person:
            st.page_link(
                "app_pages/patient.py",
                label=md_inline(row.name or row.pseudonym),
                query_params={"patient": str(row.patient_id)},
                icon=":material/person:",
            )
            if row.name:
                st.caption(row.pseudonym)
        if row.phone:
            dial = re.sub(r"[^\d+]", "", row.phone)
            phone.markdown(f":material/call: [{escape_md(row.phone)}](tel:{dial})")
        else:
            phone.caption(
                t(f"caseload.no_phone_{'asked' if row.contact_preference == 'do_not_contact' else 'none'}")
            )
        text = action_text(row)
        action.markdown(f":red[{text}]" if row.action in URGENT else text)
        with link:
            _link(row)
    if load.total > len(load.rows):
        st.caption(t("followup.worklist.more", shown=len(load.rows), total=load.total))
    if load.total > CASELOAD_LIMIT:
        st.toggle(t("caseload.show_all", n=load.total), key=SHOW_ALL)
