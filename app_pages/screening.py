"""Screening for one patient (?patient=N): choose instruments, fill them in, save, and see the
scores at once. A PHQ-9 item 9 answer above 0 shows the safety routine as soon as it is chosen.
Half-done forms stay in the session when the user opens another page and comes back."""

import uuid

import streamlit as st

from components.directory_filters import escape_md
from components.i18n import current_language, fmt_number, show_service_error, t
from components.instrument_form import (
    band_label,
    clear_instrument_form,
    incomplete_reason_label,
    instrument_form,
    instrument_result,
    item_labels,
)
from components.query import query_id
from components.session import guard
from domain.instrument_defs import DEFINITIONS
from services.errors import ServiceError
from services.patients import get_patient
from services.screening import acknowledge_flag, list_responses, record_response

principal = guard("screening")
lang = current_language()
DEFAULT_INSTRUMENTS = ["ucla3", "swemwbs"]


def _to_patients() -> None:
    st.page_link("app_pages/patients.py", label=t("instruments.to_patients"), icon=":material/person_search:")


st.title(t("page.screening"))
patient_id = query_id("patient")
if patient_id is None:
    st.info(t("instruments.no_patient"))
    _to_patients()
    st.stop()
try:
    patient = get_patient(principal, patient_id)
    previous = list_responses(principal, patient_id)
except ServiceError as error:
    show_service_error(error)
    _to_patients()
    st.stop()

st.markdown(f"**{escape_md(patient.name or '')}** · {patient.pseudonym}")
left, right = st.columns(2)
with left:
    st.page_link(
        "app_pages/patient.py",
        label=t("instruments.back_to_patient"),
        icon=":material/arrow_back:",
        query_params={"patient": str(patient_id)},
    )
with right:
    st.page_link(
        "app_pages/matching.py",
        label=t("instruments.to_matching"),
        icon=":material/arrow_forward:",
        query_params={"patient": str(patient_id)},
    )

P = f"scr{patient_id}_"  # this patient's keys in the session

# Open safety flags of this patient, until a connector marks them handled.
for response in previous:
    if "self_harm" in response.flags and not response.flag_acknowledged:
        box = st.container(border=True)
        box.error(
            t(
                "instruments.flag_open",
                date=response.administered_on.isoformat(),
                instrument=DEFINITIONS[response.instrument].short_name,
            ),
            icon=":material/emergency:",
        )
        if box.button(t("instruments.acknowledge"), key=f"{P}ack_{response.id}"):
            try:
                acknowledge_flag(principal, response.id)
            except ServiceError as error:
                show_service_error(error)
            else:
                st.session_state[P + "notice"] = t("instruments.acknowledged")
                st.rerun()

notice = st.session_state.pop(P + "notice", None)
if notice:
    st.success(notice)

# The chosen instruments, kept beside the widget so they survive switching pages.
chosen_widget = P + "chosen_w"
if chosen_widget not in st.session_state:
    st.session_state[chosen_widget] = list(st.session_state.get(P + "chosen", DEFAULT_INSTRUMENTS))
chosen = st.multiselect(
    t("instruments.choose"),
    list(DEFINITIONS),
    format_func=lambda c: f"{DEFINITIONS[c].short_name} – {DEFINITIONS[c].name[lang]}",
    key=chosen_widget,
    placeholder=t("instruments.choose_placeholder"),
)
st.session_state[P + "chosen"] = list(chosen)
if not chosen:
    st.info(t("instruments.none_chosen"))

for code in [c for c in DEFINITIONS if c in chosen]:
    d = DEFINITIONS[code]
    form_key, saved_key, idem_key = P + code, P + code + "_saved", P + code + "_idem"
    with st.container(border=True):
        st.subheader(f"{d.short_name} · {d.name[lang]}")
        saved = st.session_state.get(saved_key)
        if saved is not None:
            if not saved.incomplete_reason:
                st.success(t("instruments.saved", name=d.short_name), icon=":material/check_circle:")
            instrument_result(saved)
            if st.button(t("instruments.again"), key=P + code + "_again", icon=":material/refresh:"):
                st.session_state.pop(saved_key, None)
                st.rerun()
            continue
        idempotency_key = st.session_state.setdefault(idem_key, uuid.uuid4().hex)
        submitted = instrument_form(code, key=form_key)
        if submitted is not None:
            try:
                result = record_response(
                    principal,
                    patient_id=patient_id,
                    instrument=code,
                    answers=submitted.answers,
                    idempotency_key=idempotency_key,
                    incomplete_reason=submitted.incomplete_reason,
                )
            except ServiceError as error:
                show_service_error(
                    error, item_labels(code) | {"incomplete_reason": t("connector.incomplete_reason")}
                )
            else:
                st.session_state[saved_key] = result
                st.session_state[idem_key] = uuid.uuid4().hex
                clear_instrument_form(form_key, code)
                st.rerun()

st.subheader(t("instruments.previous"))


def _result_text(r) -> str:
    if r.incomplete_reason:
        return t("connector.incomplete_with_reason", reason=incomplete_reason_label(r.incomplete_reason))
    if r.instrument == "ons4":
        return " · ".join(
            f"{t(f'instruments.ons4_{item}')} {value}"
            for item, value in r.subscales.items()
            if value is not None
        )
    if r.instrument == "eq5d5l" and r.subscales.get("vas") is not None:
        return f"{band_label(r.instrument, r.band)} · VAS {r.subscales['vas']}"
    return band_label(r.instrument, r.band) if r.band is not None or r.instrument != "swemwbs" else ""


if not previous:
    st.caption(t("instruments.no_previous"))
else:
    st.dataframe(
        [
            {
                t("instruments.col_date"): r.administered_on.isoformat(),
                t("instruments.col_instrument"): DEFINITIONS[r.instrument].short_name,
                t("instruments.col_total"): "–" if r.total is None else str(int(r.total)),
                t("instruments.col_score"): fmt_number(r.score, 2)
                if r.score is not None and r.score != r.total
                else "",
                t("instruments.col_result"): _result_text(r),
                t("instruments.col_flags"): t("instruments.flag_self_harm") if "self_harm" in r.flags else "",
            }
            for r in previous
        ],
        hide_index=True,
        column_config={t("instruments.col_result"): st.column_config.TextColumn(width="large")},
    )
