"""Find a patient by personnummer, samordningsnummer or CPR, or register a new one.

Privacy: nothing is listed until the connector searches. A found patient opens the patient page;
a number not found opens the register form, prefilled with the number searched for."""

import streamlit as st

from components.i18n import show_service_error, t
from components.session import guard
from domain.care import CONSENT_KINDS, CONTACT_PREFERENCES, NEED_CODES
from services.errors import AccessDenied, ServiceError, ValidationError
from services.patients import COUNTRIES, LANGUAGES, SEXES, find_patient, my_centres, register_patient

principal = guard("patients")
centres = my_centres(principal)
PATIENT_PAGE = "app_pages/patient.py"

st.title(t("page.patients"))
st.caption(t("patients.intro"))

LABELS = {
    "country": t("patients.country"),
    "national_id": t("patients.national_id"),
    "name": t("patients.name"),
    "phone": t("patients.phone"),
    "sex": t("patients.sex"),
    "preferred_language": t("patients.language"),
    "contact_preference": t("patients.contact_preference"),
    "consents": t("patients.consents"),
    "needs": t("patients.needs"),
    "centre_id": t("patients.centre"),
}

if "ps_country" not in st.session_state:
    st.session_state["ps_country"] = (
        centres[0].country if centres and centres[0].country in COUNTRIES else "SE"
    )


def _open(patient_id: int) -> None:
    st.switch_page(PATIENT_PAGE, query_params={"patient": str(patient_id)})


def _country_label(code: str) -> str:
    return t(f"patients.country_{code.lower()}")


with st.form("patient_search", enter_to_submit=True, border=True):
    country_col, number_col = st.columns([1, 3])
    country_col.selectbox(LABELS["country"], COUNTRIES, format_func=_country_label, key="ps_country")
    number_col.text_input(
        LABELS["national_id"],
        key="ps_number",
        max_chars=20,
        placeholder=t("patients.national_id_placeholder"),
        help=t("patients.national_id_help"),
    )
    searched = st.form_submit_button(t("patients.search"), type="primary", icon=":material/search:")

if searched:
    st.session_state.pop("pr_result", None)
    country, number = st.session_state["ps_country"], st.session_state.get("ps_number", "")
    try:
        found = find_patient(principal, national_id=number, country=country)
    except AccessDenied:
        st.session_state.pop("ps_not_found", None)
        st.error(t("patients.other_centre"))
        st.stop()
    except ServiceError as error:
        st.session_state.pop("ps_not_found", None)
        show_service_error(error, LABELS)
        st.stop()
    if found is not None:
        _open(found.id)
    # Not found: offer the register form, prefilled with what was searched for.
    st.session_state["ps_not_found"] = (country, number.strip())
    st.session_state["pr_national_id"] = number.strip()
    st.session_state["pr_country"] = country

if "ps_not_found" not in st.session_state:
    st.info(t("patients.search_first"))
    st.stop()

country, number = st.session_state["ps_not_found"]
st.warning(t("patients.not_found", number=number))
st.subheader(t("patients.register_title"))

centre_ids = [c.id for c in centres]
centre_names = {c.id: f"{c.name} ({c.code})" for c in centres}
NO_SEX = ""

with st.form("patient_register", enter_to_submit=False):
    left, right = st.columns(2)
    left.text_input(LABELS["name"], key="pr_name", max_chars=200, autocomplete="off")
    id_country, id_number = right.columns([1, 2])
    id_country.selectbox(LABELS["country"], COUNTRIES, format_func=_country_label, key="pr_country")
    id_number.text_input(LABELS["national_id"], key="pr_national_id", max_chars=20, autocomplete="off")
    left.selectbox(
        LABELS["sex"],
        (NO_SEX, *SEXES),
        format_func=lambda s: t(f"patients.sex_{s}") if s else t("patients.not_stated"),
        key="pr_sex",
    )
    right.text_input(LABELS["phone"], key="pr_phone", max_chars=40, autocomplete="off")
    left.selectbox(
        LABELS["preferred_language"],
        LANGUAGES,
        format_func=lambda c: t(f"patients.lang_{c}"),
        key="pr_language",
        index=LANGUAGES.index("da" if country == "DK" else "sv"),
    )
    right.selectbox(
        LABELS["contact_preference"],
        CONTACT_PREFERENCES,
        format_func=lambda c: t(f"patients.contact_{c}"),
        key="pr_contact",
    )
    if len(centres) > 1:
        st.selectbox(LABELS["centre_id"], centre_ids, format_func=centre_names.get, key="pr_centre")
    st.multiselect(
        LABELS["needs"],
        NEED_CODES,
        format_func=lambda c: t(f"patients.need_{c}"),
        key="pr_needs",
        placeholder=t("patients.needs_placeholder"),
    )
    st.markdown(f"**{LABELS['consents']}**")
    for kind in CONSENT_KINDS:
        st.checkbox(t(f"patients.consent_{kind}"), key=f"pr_consent_{kind}")
    registered = st.form_submit_button(t("patients.register"), type="primary", icon=":material/person_add:")

if registered:
    state = st.session_state
    try:
        created = register_patient(
            principal,
            centre_id=state.get("pr_centre", centre_ids[0]),
            national_id=state.get("pr_national_id", ""),
            country=state.get("pr_country", country),
            name=state.get("pr_name", ""),
            phone=state.get("pr_phone", ""),
            sex=state.get("pr_sex") or None,
            preferred_language=state.get("pr_language", "sv"),
            contact_preference=state.get("pr_contact", "phone"),
            consents={kind: bool(state.get(f"pr_consent_{kind}")) for kind in CONSENT_KINDS},
            needs=state.get("pr_needs", []),
        )
    except ValidationError as error:
        if error.fields.get("national_id", ("",))[0] == "error.patient_exists":
            # A double click, or someone registered the number meanwhile: lead to the patient.
            try:
                existing = find_patient(
                    principal,
                    national_id=state.get("pr_national_id", ""),
                    country=state.get("pr_country", country),
                )
            except ServiceError:
                existing = None
            if existing is not None:
                st.info(t("patients.already_registered"))
                st.page_link(
                    PATIENT_PAGE,
                    label=t("patients.open_patient", pseudonym=existing.pseudonym),
                    icon=":material/person:",
                    query_params={"patient": str(existing.id)},
                )
            else:
                st.error(t("patients.other_centre"))
        else:
            show_service_error(error, LABELS)
    except ServiceError as error:
        show_service_error(error, LABELS)
    else:
        for key in [k for k in st.session_state if str(k).startswith(("pr_", "ps_"))]:
            del st.session_state[key]
        _open(created.id)
