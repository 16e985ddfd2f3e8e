"""Coaching and measures for one patient (?patient=N): enrol in a programme (the study arm is
shown only once allocated), the contacts log, health measures and the Samverkansmodell check."""

import uuid
from datetime import date

import streamlit as st

from components.directory_filters import escape_md
from components.i18n import current_language, show_service_error, t
from components.query import query_id
from components.session import guard
from domain.care import COACHING_MODES
from domain.programmes import CRITERIA, MOVED
from services.care import list_contacts, list_measures, log_contact, record_measure, samverkan_check
from services.errors import ServiceError
from services.followup import enrol, patient_enrolments, programmes
from services.patients import get_patient

principal = guard("care")
lang = current_language()


def _back() -> None:
    st.page_link("app_pages/patients.py", label=t("followup.back_to_patients"), icon=":material/arrow_back:")


def _timepoint(months: int) -> str:
    return t("followup.baseline") if months == 0 else t("followup.months", n=months)


def _arm(arm: str) -> str:
    return t(f"followup.arm.{arm}") if arm in ("coaching", "control") else arm


def _idem(name: str) -> str:
    """The form's idempotency key, kept until a save succeeds."""
    return st.session_state.setdefault(name, uuid.uuid4().hex)


patient_id = query_id("patient")
if patient_id is None:
    st.title(t("page.care"))
    st.info(t("followup.care.no_patient"))
    _back()
    st.stop()
try:
    patient = get_patient(principal, patient_id)
    enrolments = patient_enrolments(principal, patient_id)
except ServiceError as error:
    st.title(t("page.care"))
    show_service_error(error)
    _back()
    st.stop()

P = f"care{patient_id}_"  # widget keys of this patient's forms
options = {p.code: p for p in programmes(principal)}
st.title(t("followup.care.title", pseudonym=patient.pseudonym))
st.page_link(
    "app_pages/patient.py",
    label=t("followup.open_patient"),
    query_params={"patient": str(patient_id)},
    icon=":material/person:",
)
# Always one slot above the tabs, so a notice appearing or going does not reset the open tab.
notice_slot = st.container()
notice = st.session_state.pop(P + "notice", None)
if notice:
    notice_slot.success(notice)

programme_tab, contacts_tab, measures_tab, check_tab = st.tabs(
    [
        t("followup.care.programmes"),
        t("followup.care.contacts"),
        t("followup.care.measures"),
        t("followup.care.samverkan"),
    ]
)

# --- Programmes -----------------------------------------------------------------------------------
with programme_tab:
    if not enrolments:
        st.caption(t("followup.care.no_enrolments"))
    for e in enrolments:
        with st.container(border=True):
            name = e.programme_names.get(lang) or e.programme_names["sv"]
            line = t("followup.care.enrolled", programme=escape_md(name), day=e.enrolled_on.isoformat())
            if e.arm:
                line += " · " + t("followup.care.arm", arm=_arm(e.arm))
            if e.status == MOVED:
                line += " · " + t("followup.care.moved")
            st.markdown(line)
            for fu in e.follow_ups:
                status = t(f"followup.status.{fu.status}") if fu.status.isidentifier() else fu.status
                st.page_link(
                    "app_pages/follow_up.py",
                    label=f"{_timepoint(fu.timepoint_months)} · {fu.due_on.isoformat()} · {status}",
                    query_params={"id": str(fu.id)},
                    icon=":material/event_repeat:",
                )
    st.markdown(f"**{t('followup.care.enrol')}**")
    with st.form(P + "enrol_form"):
        st.selectbox(
            t("followup.care.programme"),
            list(options),
            format_func=lambda c: options[c].name(lang),
            key=P + "programme",
        )
        st.date_input(
            t("followup.care.enrolled_on"), key=P + "enrolled_on", max_value=date.today(), format="YYYY-MM-DD"
        )
        st.caption(t("followup.care.arm_concealed"))
        enrol_clicked = st.form_submit_button(
            t("followup.care.enrol_button"), type="primary", key=P + "enrol"
        )
    if enrol_clicked:
        try:
            view = enrol(
                principal,
                patient_id=patient_id,
                programme_code=st.session_state.get(P + "programme"),
                enrolled_on=st.session_state.get(P + "enrolled_on"),
                idempotency_key=_idem(P + "enrol_idem"),
            )
        except ServiceError as error:
            show_service_error(
                error,
                {
                    "programme_code": t("followup.care.programme"),
                    "enrolled_on": t("followup.care.enrolled_on"),
                },
            )
        else:
            st.session_state[P + "enrol_idem"] = uuid.uuid4().hex
            message = t("followup.care.enrolled_notice", n=len(view.follow_ups))
            if view.arm:
                message += " " + t("followup.care.allocated", arm=_arm(view.arm))
            st.session_state[P + "notice"] = message
            st.rerun()

# --- Contacts -------------------------------------------------------------------------------------
CONTACT_LABELS = {
    "contact_on": t("followup.care.contact_on"),
    "mode": t("followup.care.mode"),
    "minutes": t("followup.care.minutes"),
    "notes": t("followup.care.notes"),
}
with contacts_tab:
    if st.session_state.pop(P + "contact_reset", False):
        for name in ("minutes", "notes"):
            st.session_state.pop(P + "contact_" + name, None)
    with st.form(P + "contact_form"):
        cols = st.columns(3)
        cols[0].date_input(CONTACT_LABELS["contact_on"], key=P + "contact_contact_on", format="YYYY-MM-DD")
        cols[1].selectbox(
            CONTACT_LABELS["mode"],
            COACHING_MODES,
            format_func=lambda m: t(f"followup.mode.{m}"),
            key=P + "contact_mode",
        )
        cols[2].number_input(CONTACT_LABELS["minutes"], value=30, step=5, key=P + "contact_minutes")
        st.text_area(CONTACT_LABELS["notes"], key=P + "contact_notes", max_chars=2000)
        contact_clicked = st.form_submit_button(t("followup.care.log_contact"), key=P + "log_contact")
    if contact_clicked:
        try:
            log_contact(
                principal,
                patient_id=patient_id,
                contact_on=st.session_state.get(P + "contact_contact_on"),
                mode=st.session_state.get(P + "contact_mode"),
                minutes=st.session_state.get(P + "contact_minutes"),
                notes=st.session_state.get(P + "contact_notes"),
                idempotency_key=_idem(P + "contact_idem"),
            )
        except ServiceError as error:
            show_service_error(error, CONTACT_LABELS)
        else:
            st.session_state[P + "contact_idem"] = uuid.uuid4().hex
            st.session_state[P + "contact_reset"] = True
            st.session_state[P + "notice"] = t("followup.care.contact_saved")
            st.rerun()
    contacts = list_contacts(principal, patient_id)
    if contacts:
        st.dataframe(
            [
                {
                    CONTACT_LABELS["contact_on"]: c.contact_on.isoformat(),
                    CONTACT_LABELS["mode"]: t(f"followup.mode.{c.mode}"),
                    CONTACT_LABELS["minutes"]: c.minutes,
                    CONTACT_LABELS["notes"]: c.notes or "",
                }
                for c in contacts
            ],
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption(t("followup.care.no_contacts"))

# --- Measures -------------------------------------------------------------------------------------
MEASURE_LABELS = {
    "measured_on": t("followup.care.measured_on"),
    "systolic": t("followup.care.systolic"),
    "diastolic": t("followup.care.diastolic"),
    "hba1c": t("followup.care.hba1c"),
    "waist_cm": t("followup.care.waist"),
    "weight_kg": t("followup.care.weight"),
}
with measures_tab:
    if st.session_state.pop(P + "measure_reset", False):
        for name in ("systolic", "diastolic", "hba1c", "waist_cm", "weight_kg"):
            st.session_state.pop(P + "m_" + name, None)
    with st.form(P + "measure_form"):
        st.date_input(MEASURE_LABELS["measured_on"], key=P + "m_measured_on", format="YYYY-MM-DD")
        cols = st.columns(5)
        for col_, name in zip(cols, ("systolic", "diastolic", "hba1c", "waist_cm", "weight_kg"), strict=True):
            whole = name in ("systolic", "diastolic")
            col_.number_input(
                MEASURE_LABELS[name],
                value=None,
                step=1 if whole else 0.1,
                format="%d" if whole else "%.1f",
                key=P + "m_" + name,
            )
        measure_clicked = st.form_submit_button(t("followup.care.save_measure"), key=P + "save_measure")
    if measure_clicked:
        try:
            record_measure(
                principal,
                patient_id=patient_id,
                measured_on=st.session_state.get(P + "m_measured_on"),
                **{n: st.session_state.get(P + "m_" + n) for n in MEASURE_LABELS if n != "measured_on"},
                idempotency_key=_idem(P + "measure_idem"),
            )
        except ServiceError as error:
            show_service_error(error, MEASURE_LABELS)
        else:
            st.session_state[P + "measure_idem"] = uuid.uuid4().hex
            st.session_state[P + "measure_reset"] = True
            st.session_state[P + "notice"] = t("followup.care.measure_saved")
            st.rerun()
    measures = list_measures(principal, patient_id)
    if measures:
        st.dataframe(
            [
                {
                    MEASURE_LABELS["measured_on"]: m.measured_on.isoformat(),
                    t("followup.care.blood_pressure"): f"{m.systolic}/{m.diastolic}" if m.systolic else "",
                    MEASURE_LABELS["hba1c"]: m.hba1c,
                    MEASURE_LABELS["waist_cm"]: m.waist_cm,
                    MEASURE_LABELS["weight_kg"]: m.weight_kg,
                }
                for m in measures
            ],
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption(t("followup.care.no_measures"))

# --- Samverkansmodell -----------------------------------------------------------------------------
with check_tab:
    st.caption(t("followup.care.samverkan_help"))
    cols = st.columns(2)
    cols[0].number_input(t("followup.care.madrs"), value=None, step=1, format="%d", key=P + "madrs")
    cols[1].multiselect(
        t("followup.care.treated"),
        CRITERIA,
        format_func=lambda c: t(f"followup.criterion.{c}"),
        placeholder=t("followup.care.treated_none"),
        key=P + "treated",
    )
    if st.button(t("followup.care.check"), key=P + "check"):
        try:
            result = samverkan_check(
                principal,
                patient_id,
                madrs=st.session_state.get(P + "madrs"),
                treated=frozenset(st.session_state.get(P + "treated") or ()),
            )
        except ServiceError as error:
            show_service_error(
                error, {"madrs": t("followup.care.madrs"), "treated": t("followup.care.treated")}
            )
        else:
            met = ", ".join(t(f"followup.criterion.{c}") for c in result.met)
            if result.eligible:
                st.success(t("followup.care.eligible", criteria=met))
            else:
                st.warning(t("followup.care.not_eligible"))
            reasons = [t(f"followup.reason.{r}") for r in result.not_met]
            if reasons:
                st.markdown("\n".join(f"- {r}" for r in reasons))
