"""Connector home: the worklist. Safety flags first (in red), then "my patients" (name, phone and
next action, most urgent first), follow-ups due today, overdue and in the next 14 days, and
referrals the activity has not answered; each row links to its page."""

import streamlit as st

from components.caseload import SHOW_ALL, caseload_section, who_label
from components.directory_filters import escape_md
from components.i18n import current_language, t
from components.session import guard
from domain.markdown_safety import md_inline
from services.caseload import CASELOAD_MAX, caseload, patient_names
from services.followup import worklist
from services.home import connector_summary

principal = guard("home_connector")
lang = current_language()
summary = connector_summary(principal)
work = worklist(principal)
load = caseload(principal, limit=CASELOAD_MAX if st.session_state.get(SHOW_ALL) else None)
rows = (*work.safety_flags, *work.due_today, *work.overdue, *work.upcoming, *work.unanswered)
names = patient_names(principal, [r.patient_id for r in rows])

st.title(t("home.hello", name=md_inline(principal.display_name)))
st.caption(t("home.connector.centres", centres=", ".join(summary.centres)))

counts = work.counts
flags_col, due_col, overdue_col, upcoming_col, unanswered_col = st.columns(5)
flags_col.metric(t("followup.worklist.safety_flags"), counts["safety_flags"], border=True)
due_col.metric(t("home.connector.due_today"), counts["due_today"], border=True)
overdue_col.metric(t("home.connector.overdue"), counts["overdue"], border=True)
upcoming_col.metric(t("home.connector.upcoming"), counts["upcoming"], border=True)
unanswered_col.metric(
    t("home.connector.unanswered"),
    counts["unanswered"],
    border=True,
    help=t("home.connector.unanswered_help"),
)


def _who(row) -> str:
    return who_label(names.get(row.patient_id), row.pseudonym)


def _timepoint(months: int) -> str:
    return t("followup.baseline") if months == 0 else t("followup.months", n=months)


def _more(shown: int, total: int) -> None:
    if total > shown:
        st.caption(t("followup.worklist.more", shown=shown, total=total))


if work.empty:
    st.success(t("followup.worklist.empty"))
    if not load.rows:
        if not summary.patients:
            st.info(t("home.connector.empty"))
        st.page_link(
            "app_pages/patients.py", label=t("followup.worklist.find_patient"), icon=":material/search:"
        )
        st.stop()

if work.safety_flags:
    with st.container(border=True):
        st.subheader(f":red[:material/warning: {t('followup.worklist.safety_flags')}]")
        st.markdown(f":red[{t('followup.worklist.safety_note')}]")
        for flag in work.safety_flags:
            who, what, link = st.columns([2, 4, 2], vertical_alignment="center")
            who.markdown(f":red[{_who(flag)}]")
            row_text = t(
                "followup.worklist.flag_row",
                instrument=flag.instrument.upper(),
                day=flag.administered_on.isoformat(),
            )
            what.markdown(f":red[{row_text}]")
            link.page_link(
                "app_pages/patient.py",
                label=t("followup.worklist.open_patient"),
                query_params={"patient": str(flag.patient_id)},
                icon=":material/person:",
            )
        _more(len(work.safety_flags), counts["safety_flags"])


caseload_section(load)


def follow_up_section(title: str, rows, total: int, empty: str, late: bool = False) -> None:
    st.subheader(title)
    if not rows:
        st.caption(t(empty))
        return
    for row in rows:
        who, what, when, link = st.columns([2, 4, 2, 2], vertical_alignment="center")
        who.markdown(_who(row))
        name = row.programme_names.get(lang) or row.programme_names["sv"]
        what.markdown(f"{escape_md(name)} · {_timepoint(row.timepoint_months)}")
        due = row.due_on.isoformat()
        when.markdown(t("followup.worklist.days_late", day=due, n=row.days) if late else due)
        link.page_link(
            "app_pages/follow_up.py",
            label=t("followup.worklist.open_follow_up"),
            query_params={"id": str(row.follow_up_id)},
            icon=":material/event_repeat:",
        )
    _more(len(rows), total)


follow_up_section(
    t("home.connector.due_today"), work.due_today, counts["due_today"], "followup.worklist.none_today"
)
follow_up_section(
    t("home.connector.overdue"), work.overdue, counts["overdue"], "followup.worklist.none_overdue", late=True
)
follow_up_section(
    t("home.connector.upcoming"), work.upcoming, counts["upcoming"], "followup.worklist.none_upcoming"
)

st.subheader(t("home.connector.unanswered"))
if not work.unanswered:
    st.caption(t("followup.worklist.none_unanswered"))
for ref in work.unanswered:
    who, what, link = st.columns([2, 6, 2], vertical_alignment="center")
    who.markdown(_who(ref))
    what.markdown(
        t(
            "followup.worklist.unanswered_row",
            service=escape_md(ref.service_name),
            day=ref.created_on.isoformat(),
            n=ref.days,
        )
    )
    link.page_link(
        "app_pages/referral.py",
        label=t("followup.worklist.open_referral"),
        query_params={"id": str(ref.referral_id)},
        icon=":material/send:",
    )
_more(len(work.unanswered), counts["unanswered"])
