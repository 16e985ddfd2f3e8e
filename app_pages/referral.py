"""One referral for the connector (`?id=<referral id>`): the activity and its status, the contact person
for the warm handover, logging the handover, moving the status on, and the full history."""

from __future__ import annotations

import streamlit as st

from components.confirm import pop_notice, push_notice
from components.directory_filters import escape_md
from components.i18n import show_service_error, t
from components.query import query_id
from components.referral_followup import follow_up_done
from components.referral_labels import method_label, reason_label, status_badge, status_label
from components.session import guard
from domain.care import HANDOVER_METHODS, OUTCOME_REASONS
from domain.markdown_safety import mailto_link, md_inline, tel_link
from services.errors import AccessDenied, NotFound, ServiceError, ValidationError
from services.referrals import REASON_REQUIRED, log_handover, referral_detail, set_status
from settings import get_settings

principal = guard("referral")
PATIENTS_PAGE = "app_pages/patients.py"
PATIENT_PAGE = "app_pages/patient.py"


def need_label(code: str | None) -> str:
    """The need in the user's language (the patients page owns those words), else the plain code."""
    if not code:
        return ""
    text = t(f"patients.need_{code}")
    return code.replace("_", " ") if text == f"patients.need_{code}" else text


def back_to_patients(message: str) -> None:
    st.info(message)
    st.page_link(PATIENTS_PAGE, label=t("referral.to_patients"), icon=":material/group:")
    st.stop()


st.title(t("page.referral"))
referral_id = query_id("id")
if referral_id is None:
    back_to_patients(t("referral.no_id"))
try:
    detail = referral_detail(principal, referral_id)
except NotFound:
    back_to_patients(t("referral.not_found"))
except AccessDenied:
    st.error(t("error.access_denied"))
    back_to_patients(t("referral.not_yours"))

view = detail.view
# Widget keys carry a generation, renewed after a successful save, so the form starts empty again
# (and keeps what was typed when a save fails).
GEN_KEY = f"referral_form_gen_{view.id}"
gen = st.session_state.setdefault(GEN_KEY, 0)
notice = pop_notice("referral")
if notice:
    st.success(notice)

st.subheader(md_inline(view.service_name))
st.markdown(status_badge(view.status, view.outcome_reason))
facts = [
    t("referral.organization", name=escape_md(detail.organization_name)),
    t("referral.created", date=f"{view.created_on:%Y-%m-%d}", n=detail.days_waiting),
    t("referral.patient_ref", pseudonym=detail.pseudonym),
]
if detail.need:
    facts.append(t("referral.need", need=escape_md(need_label(detail.need))))
st.caption(" · ".join(facts))
if detail.unanswered:
    st.warning(t("referral.unanswered", n=detail.days_waiting, limit=get_settings().unanswered_days))
st.info(follow_up_done(view.follow_up), icon=":material/event_repeat:")
if view.follow_up is not None and view.follow_up.next_follow_up_id is not None:
    st.page_link(
        "app_pages/follow_up.py",
        label=t("caseload.open_follow_up"),
        query_params={"id": str(view.follow_up.next_follow_up_id)},
        icon=":material/event_repeat:",
    )
st.page_link(
    PATIENT_PAGE,
    label=t("referral.back_to_patient", pseudonym=detail.pseudonym),
    query_params={"patient": str(view.patient_id)},
    icon=":material/arrow_back:",
)

# --- The warm handover ----------------------------------------------------------------------------
with st.container(border=True):
    st.markdown(f"**{t('referral.contact_heading')}**")
    if view.contact_name or view.contact_phone or view.contact_email:
        lines = []
        if view.contact_name:
            lines.append(f":material/person: {escape_md(view.contact_name)}")
        if view.contact_phone:
            lines.append(f":material/call: {tel_link(view.contact_phone)}")
        if view.contact_email:
            lines.append(f":material/mail: {mailto_link(view.contact_email)}")
        st.markdown("  \n".join(lines))
    else:
        st.caption(t("referral.no_contact"))
    if view.handover_method:
        when = f"{view.handover_at.astimezone():%Y-%m-%d %H:%M}" if view.handover_at else ""
        st.markdown(
            ":green[:material/check_circle:] "
            + t("referral.handover_done", method=method_label(view.handover_method), when=when)
        )
    if view.status in ("requested", "accepted", "in-progress", "on-hold"):
        with st.form(f"handover_form_{gen}", enter_to_submit=False):
            st.markdown(f"**{t('referral.handover_heading')}**")
            method = st.segmented_control(
                t("referral.handover_method"),
                HANDOVER_METHODS,
                format_func=method_label,
                key=f"handover_method_{gen}",
                default=None,
            )
            note = st.text_area(
                t("referral.handover_note"), max_chars=2000, key=f"handover_note_{gen}", height=80
            )
            logged = st.form_submit_button(t("referral.handover_submit"), icon=":material/handshake:")
        if logged:
            try:
                if method is None:
                    raise ValidationError({"method": ("error.required", {})})
                log_handover(principal, view.id, method, note=note or None)
            except ServiceError as error:
                show_service_error(
                    error, {"method": t("referral.handover_method"), "note": t("referral.handover_note")}
                )
            else:
                st.session_state[GEN_KEY] = gen + 1
                push_notice("referral", t("referral.handover_saved", method=method_label(method)))
                st.rerun()

# --- Status ---------------------------------------------------------------------------------------
if detail.allowed_next:
    with st.container(border=True):
        st.markdown(f"**{t('referral.status_heading')}**")
        new_status = st.selectbox(
            t("referral.new_status"),
            detail.allowed_next,
            format_func=status_label,
            index=None,
            placeholder=t("referral.choose_status"),
            key=f"status_new_{view.id}_{gen}",
        )
        closing = new_status in REASON_REQUIRED
        reason = None
        if closing:
            reason = st.selectbox(
                t("referral.reason"),
                OUTCOME_REASONS,
                format_func=reason_label,
                index=None,
                placeholder=t("referral.choose_reason"),
                key=f"status_reason_{view.id}_{gen}",
                help=t("referral.reason_help"),
            )
        status_note = st.text_input(
            t("referral.status_note"), max_chars=2000, key=f"status_note_{view.id}_{gen}"
        )
        if st.button(t("referral.status_submit"), type="primary", key=f"status_save_{view.id}_{gen}"):
            try:
                if new_status is None:
                    raise ValidationError({"status": ("error.required", {})})
                set_status(principal, view.id, new_status, reason=reason, note=status_note or None)
            except ServiceError as error:
                show_service_error(
                    error,
                    {
                        "status": t("referral.new_status"),
                        "reason": t("referral.reason"),
                        "note": t("referral.status_note"),
                    },
                )
            else:
                st.session_state[GEN_KEY] = gen + 1
                push_notice("referral", t("referral.status_saved", status=status_label(new_status)))
                st.rerun()

# --- History --------------------------------------------------------------------------------------
st.markdown(f"**{t('referral.history_heading')}**")
events = list(reversed(detail.events))
st.dataframe(
    {
        t("referral.history_when"): [f"{e.at.astimezone():%Y-%m-%d %H:%M}" for e in events],
        t("referral.history_who"): [e.user or "" for e in events],
        t("referral.history_status"): [
            t("referral.history_handover", method=method_label(e.handover_method))
            if e.handover_method
            else status_label(e.status)
            for e in events
        ],
        t("referral.history_reason"): [reason_label(e.reason) for e in events],
        t("referral.history_note"): [e.note or "" for e in events],
    },
    hide_index=True,
    width="stretch",
)
