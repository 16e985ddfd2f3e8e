"""One follow-up (?id=N): the programme's instruments again, saved for this enrolment and time
point, and for each of the patient's referrals whether they went; then Complete."""

import uuid

import streamlit as st

from components.directory_filters import escape_md
from components.i18n import current_language, show_service_error, t
from components.instrument_form import clear_instrument_form, instrument_form, item_labels
from components.query import query_id
from components.referral_followup import programme_change
from components.session import guard
from domain.markdown_safety import md_inline
from domain.programmes import MOVED
from services.caseload import patient_names
from services.errors import ServiceError
from services.followup import follow_up_detail, record_follow_up
from services.screening import record_response

principal = guard("follow_up")
lang = current_language()


def _back() -> None:
    st.page_link("app_pages/patients.py", label=t("followup.back_to_patients"), icon=":material/arrow_back:")


def _timepoint(months: int) -> str:
    return t("followup.baseline") if months == 0 else t("followup.months", n=months)


follow_up_id = query_id("id")
if follow_up_id is None:
    st.title(t("page.follow_up"))
    st.info(t("followup.no_id"))
    _back()
    st.stop()
try:
    detail = follow_up_detail(principal, follow_up_id)
except ServiceError as error:
    st.title(t("page.follow_up"))
    show_service_error(error)
    _back()
    st.stop()

programme = detail.programme_names.get(lang) or detail.programme_names["sv"]
name = patient_names(principal, [detail.patient_id]).get(detail.patient_id)
st.title(
    t("followup.title", pseudonym=f"{escape_md(name)} · {detail.pseudonym}" if name else detail.pseudonym)
)
st.markdown(
    t(
        "followup.summary",
        programme=escape_md(programme),
        timepoint=_timepoint(detail.timepoint_months),
        due=detail.due_on.isoformat(),
        opens=detail.window[0].isoformat(),
        closes=detail.window[1].isoformat(),
    )
)
links = st.columns(2)
links[0].page_link(
    "app_pages/patient.py",
    label=t("followup.open_patient"),
    query_params={"patient": str(detail.patient_id)},
    icon=":material/person:",
)
links[1].page_link(
    "app_pages/care.py",
    label=t("followup.open_care"),
    query_params={"patient": str(detail.patient_id)},
    icon=":material/monitor_heart:",
)

notice = st.session_state.pop("follow_up_notice", None)
if notice:
    st.success(notice)
if detail.status == MOVED:
    # A programme change took the person on to another programme: answers and completion go there.
    if detail.moved_to_names:
        moved_to = escape_md(detail.moved_to_names.get(lang) or detail.moved_to_names["sv"])
        st.info(t("followup.moved_notice", programme=moved_to))
    else:
        st.info(t("followup.moved_notice_unknown"))
    if detail.moved_to is not None and detail.moved_to_names:
        st.page_link(
            "app_pages/follow_up.py",
            label=t("followup.moved_open", programme=moved_to),
            query_params={"id": str(detail.moved_to)},
            icon=":material/arrow_forward:",
        )
    st.stop()
programme_change(principal, detail)
if detail.status == "completed" and detail.completed_on:
    st.success(t("followup.completed_on", day=detail.completed_on.isoformat()))

# --- Instruments -----------------------------------------------------------------------------------
st.subheader(t("followup.instruments"))
if detail.with_measures:
    st.caption(t("followup.measures_hint"))
first_open = next((c for c in detail.instruments if c not in detail.done_instruments), None)
for code in detail.instruments:
    done = code in detail.done_instruments
    label = t(f"followup.instrument.{code}") if code.isidentifier() else code
    with st.expander(("✓ " if done else "") + label, expanded=code == first_open):
        if done:
            st.caption(t("followup.instrument_done"))
        form_key = f"fu{detail.id}_{code}"
        idem = f"{form_key}_idem"
        st.session_state.setdefault(idem, uuid.uuid4().hex)
        submitted = instrument_form(code, key=form_key)
        if submitted is not None:
            try:
                record_response(
                    principal,
                    patient_id=detail.patient_id,
                    instrument=code,
                    answers=submitted.answers,
                    incomplete_reason=submitted.incomplete_reason,
                    enrolment_id=detail.enrolment_id,
                    timepoint_months=detail.timepoint_months,
                    idempotency_key=st.session_state[idem],
                )
            except ServiceError as error:
                show_service_error(
                    error, item_labels(code) | {"incomplete_reason": t("connector.incomplete_reason")}
                )
            else:
                st.session_state[idem] = uuid.uuid4().hex
                clear_instrument_form(form_key, code)
                st.session_state["follow_up_notice"] = t("followup.instrument_saved", instrument=label)
                st.rerun()

# --- Referrals attended, then complete -------------------------------------------------------------
st.subheader(t("followup.attendance"))
YES, NO = "yes", "no"
with st.form(f"follow_up_complete_{detail.id}"):
    if not detail.referrals:
        st.caption(t("followup.no_referrals"))
    for ref in detail.referrals:
        default = detail.attendance.get(ref.id)
        st.radio(
            t(
                "followup.attended_question",
                service=escape_md(ref.service_name),
                day=ref.created_on.isoformat(),
            ),
            (YES, NO),
            index=None if default is None else (0 if default else 1),
            format_func=lambda o: t(f"followup.attended_{o}"),
            horizontal=True,
            key=f"fu{detail.id}_attended_{ref.id}",
        )
    st.date_input(t("followup.completed_date"), key=f"fu{detail.id}_completed_on", format="YYYY-MM-DD")
    submitted = st.form_submit_button(t("followup.complete"), type="primary", key=f"fu{detail.id}_complete")

for ref in detail.referrals:
    st.page_link(
        "app_pages/referral.py",
        label=t("followup.open_referral", service=md_inline(ref.service_name)),
        query_params={"id": str(ref.id)},
        icon=":material/send:",
    )

if submitted:
    attendance = {}
    for ref in detail.referrals:
        answer = st.session_state.get(f"fu{detail.id}_attended_{ref.id}")
        if answer is not None:
            attendance[ref.id] = answer == YES
    try:
        record_follow_up(
            principal,
            detail.id,
            attendance=attendance,
            completed_on=st.session_state.get(f"fu{detail.id}_completed_on"),
        )
    except ServiceError as error:
        show_service_error(
            error, {"attendance": t("followup.attendance"), "completed_on": t("followup.completed_date")}
        )
    else:
        st.session_state["follow_up_notice"] = t("followup.saved")
        st.rerun()
