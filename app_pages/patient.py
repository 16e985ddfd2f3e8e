"""One patient (`?patient=<id>`): header, next steps, what matters, needs, consents, the timeline,
referrals, and the patient's own request (data export, access extract)."""

import json

import streamlit as st

from components.confirm import pop_notice, push_notice
from components.i18n import audit_label, error_text, fmt_number, show_service_error, t
from components.instrument_form import incomplete_reason_label
from components.query import query_id
from components.session import guard
from domain.care import CONSENT_KINDS, CONTACT_PREFERENCES, NEED_CODES
from domain.csv_safety import to_csv
from domain.markdown_safety import md_inline
from services.auth import load_principal
from services.errors import AccessDenied, IdentityUnreadable, NotFound, ServiceError
from services.patients import LANGUAGES, get_profile, set_consents, timeline, update_profile
from services.privacy import ACCESS_COLUMNS, access_csv_rows, access_extract, export_patient
from services.referrals import patient_referrals

principal = guard("patient")
PATIENTS_PAGE = "app_pages/patients.py"
NOTICE = "patient_page"


def _back(message: str, *, error: bool = False) -> None:
    (st.error if error else st.info)(message)
    st.page_link(PATIENTS_PAGE, label=t("patients.back_to_search"), icon=":material/person_search:")
    st.stop()


patient_id = query_id("patient")
if patient_id is None:
    st.title(t("page.patient"))
    _back(t("patients.no_patient_chosen"))
try:
    profile = get_profile(principal, patient_id)
except AccessDenied:
    st.title(t("page.patient"))
    _back(t("patients.other_centre"), error=True)
except NotFound:
    st.title(t("page.patient"))
    _back(t("patients.no_patient_found"))
except IdentityUnreadable as unreadable:
    st.title(t("page.patient"))
    _back(error_text(unreadable), error=True)

# --- Header ---------------------------------------------------------------------------------------
st.title(md_inline(profile.name or profile.pseudonym))
facts = [
    t("patients.pseudonym_is", pseudonym=profile.pseudonym),
    t("patients.age_is", age=profile.age) if profile.age is not None else None,
    t(f"patients.sex_{profile.sex}") if profile.sex else None,
    t("patients.language_is", language=t(f"patients.lang_{profile.preferred_language}")),
    t("patients.contact_is", contact=t(f"patients.contact_{profile.contact_preference}")),
    profile.centre_code,
]
st.caption(" · ".join(f for f in facts if f))
if profile.contact_preference == "do_not_contact":
    st.warning(t("patients.do_not_contact_warning"), icon=":material/do_not_disturb_on:")
if notice := pop_notice(NOTICE):
    st.success(notice)

query = {"patient": str(profile.id)}
links = st.columns(3)
links[0].page_link(
    "app_pages/screening.py",
    label=t("patients.action_screening"),
    icon=":material/checklist:",
    query_params=query,
)
links[1].page_link(
    "app_pages/matching.py",
    label=t("patients.action_matching"),
    icon=":material/join_inner:",
    query_params=query,
)
links[2].page_link(
    "app_pages/care.py", label=t("patients.action_care"), icon=":material/monitor_heart:", query_params=query
)

LABELS = {
    "name": t("patients.name"),
    "phone": t("patients.phone"),
    "preferred_language": t("patients.language"),
    "contact_preference": t("patients.contact_preference"),
    "what_matters": t("patients.what_matters"),
    "interests": t("patients.interests"),
    "needs": t("patients.needs"),
    "kind": t("patients.consents"),
    "granted": t("patients.consents"),
}

about, consent_col = st.columns([3, 2], gap="large")

# --- What matters, needs, contact -----------------------------------------------------------------
with about:
    st.subheader(t("patients.about_title"))
    key = f"pp_{profile.id}"
    with st.form(f"{key}_form", enter_to_submit=False):
        st.text_area(
            LABELS["what_matters"],
            value=profile.what_matters or "",
            key=f"{key}_what_matters",
            max_chars=2000,
            height=90,
            help=t("patients.what_matters_help"),
        )
        st.text_input(
            LABELS["interests"],
            value=profile.interests or "",
            key=f"{key}_interests",
            max_chars=1000,
            help=t("patients.interests_help"),
        )
        st.multiselect(
            LABELS["needs"],
            NEED_CODES,
            default=[n for n in profile.needs if n in NEED_CODES],
            format_func=lambda c: t(f"patients.need_{c}"),
            key=f"{key}_needs",
            placeholder=t("patients.needs_placeholder"),
        )
        left, right = st.columns(2)
        left.selectbox(
            LABELS["contact_preference"],
            CONTACT_PREFERENCES,
            index=CONTACT_PREFERENCES.index(profile.contact_preference)
            if profile.contact_preference in CONTACT_PREFERENCES
            else 0,
            format_func=lambda c: t(f"patients.contact_{c}"),
            key=f"{key}_contact",
        )
        languages = (
            LANGUAGES if profile.preferred_language in LANGUAGES else (profile.preferred_language, *LANGUAGES)
        )
        right.selectbox(
            LABELS["preferred_language"],
            languages,
            index=languages.index(profile.preferred_language),
            format_func=lambda c: t(f"patients.lang_{c}") if c in LANGUAGES else c,
            key=f"{key}_language",
        )
        left.text_input(LABELS["name"], value=profile.name or "", key=f"{key}_name", max_chars=200)
        right.text_input(LABELS["phone"], value=profile.phone or "", key=f"{key}_phone", max_chars=40)
        save_about = st.form_submit_button(t("patients.save"), type="primary")
    if save_about:
        state = st.session_state
        try:
            update_profile(
                principal,
                profile.id,
                name=state[f"{key}_name"],
                phone=state[f"{key}_phone"],
                preferred_language=state[f"{key}_language"],
                contact_preference=state[f"{key}_contact"],
                what_matters=state[f"{key}_what_matters"],
                interests=state[f"{key}_interests"],
                needs=state[f"{key}_needs"],
            )
        except ServiceError as error:
            show_service_error(error, LABELS)
        else:
            push_notice(NOTICE, t("patients.saved"))
            st.rerun()

# --- Consents -------------------------------------------------------------------------------------
with consent_col:
    st.subheader(t("patients.consents"))
    with st.form(f"pc_{profile.id}_form", enter_to_submit=False):
        for kind in CONSENT_KINDS:
            when = profile.consent_dates.get(kind)
            if kind not in profile.consents:
                status = t("patients.consent_not_recorded")
            elif profile.consents[kind]:
                status = t("patients.consent_given_on", date=when.date().isoformat())
            else:
                status = t("patients.consent_withdrawn_on", date=when.date().isoformat())
            st.checkbox(
                t(f"patients.consent_{kind}"),
                value=profile.consents.get(kind, False),
                key=f"pc_{profile.id}_{kind}",
            )
            st.caption(status)
        save_consents = st.form_submit_button(t("patients.save_consents"))
    if save_consents:
        wanted = {kind: bool(st.session_state[f"pc_{profile.id}_{kind}"]) for kind in CONSENT_KINDS}
        # A consent never recorded and left unticked stays "not recorded".
        changed = {k: v for k, v in wanted.items() if profile.consents.get(k, False) != v}
        try:
            set_consents(principal, profile.id, changed)
        except ServiceError as error:
            show_service_error(error, LABELS)
        else:
            push_notice(NOTICE, t("patients.consents_saved", n=len(changed)))
            st.rerun()

# --- Referrals ------------------------------------------------------------------------------------
st.subheader(t("patients.referrals_title"))
try:
    referrals = patient_referrals(principal, profile.id)
except ServiceError as error:
    show_service_error(error)
    referrals = []
if not referrals:
    st.caption(t("patients.no_referrals"))
for ref in referrals:
    st.page_link(
        "app_pages/referral.py",
        label=t(
            "patients.referral_line",
            service=md_inline(ref.service_name),
            status=t(f"patients.status_{ref.status}"),
            date=ref.created_on.isoformat(),
        ),
        icon=":material/send:",
        query_params={"id": str(ref.id)},
    )

# --- Timeline -------------------------------------------------------------------------------------
st.subheader(t("patients.timeline_title"))


def _known(key: str) -> bool:
    return t(key) != key


def _code(prefix: str, code: str | None) -> str:
    """The translation of a code, or the code itself where none exists (a new band or status)."""
    key = f"patients.{prefix}_{code}"
    return t(key) if _known(key) else str(code)


def _number(value) -> str:
    value = float(value)
    return fmt_number(value, 0 if value.is_integer() else 1)


def _describe(entry) -> str:
    s = entry.summary
    if entry.kind == "screening":
        text = _code("instrument", s["instrument"])
        if s.get("score") is not None:
            text += f": {_number(s['score'])}"
        if s.get("band"):
            text += f" ({_code('band', s['band'])})"
        if s.get("incomplete_reason"):
            text += " · " + t(
                "connector.incomplete_with_reason", reason=incomplete_reason_label(s["incomplete_reason"])
            )
        if s.get("flags"):
            text += " · " + t("patients.tl_flag")
        return text
    if entry.kind == "referral":
        return t("patients.tl_referral", service=s["service"])
    if entry.kind == "referral_event":
        text = t("patients.tl_referral_event", service=s["service"], status=_code("status", s["status"]))
        if s.get("reason"):
            text += f" ({_code('reason', s['reason'])})"
        return text
    if entry.kind == "contact":
        return t("patients.tl_contact", mode=_code("mode", s["mode"]), minutes=s["minutes"])
    if entry.kind == "follow_up":
        return t("patients.tl_follow_up", months=s["timepoint_months"], status=_code("fu", s["status"]))
    if entry.kind == "measure":
        parts = []
        if "systolic" in s and "diastolic" in s:
            parts.append(t("patients.m_bp", sys=s["systolic"], dia=s["diastolic"]))
        if "hba1c" in s:
            parts.append(t("patients.m_hba1c", value=_number(s["hba1c"])))
        if "waist_cm" in s:
            parts.append(t("patients.m_waist", value=_number(s["waist_cm"])))
        if "weight_kg" in s:
            parts.append(t("patients.m_weight", value=_number(s["weight_kg"])))
        return ", ".join(parts)
    if entry.kind == "consent":
        key = "patients.tl_consent_given" if s["granted"] else "patients.tl_consent_withdrawn"
        return t(key, kind=t(f"patients.consent_short_{s['kind']}"))
    if entry.kind == "need":
        return _code("need", s["need"])
    return entry.kind


try:
    entries = timeline(principal, profile.id)
except ServiceError as error:
    show_service_error(error)
    entries = []
if not entries:
    st.caption(t("patients.timeline_empty"))
else:
    st.dataframe(
        {
            t("patients.tl_date"): [e.on for e in entries],
            t("patients.tl_what"): [t(f"patients.kind_{e.kind}") for e in entries],
            t("patients.tl_details"): [_describe(e) for e in entries],
        },
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(entries), 460),
        column_config={
            t("patients.tl_date"): st.column_config.DateColumn(width="small"),
            t("patients.tl_what"): st.column_config.TextColumn(width="small"),
            t("patients.tl_details"): st.column_config.TextColumn(width="large"),
        },
    )

# --- The patient's own request ----------------------------------------------------------------------
# The downloads are prepared only when clicked (deferred), so each export is audited once, when
# it is actually made; the user is reloaded then, so a disabled account gets nothing.
user_id, pid = principal.user_id, profile.id
access_header = [t(f"patients.access_{c}") for c in ACCESS_COLUMNS]


def _fresh_principal():
    fresh = load_principal(user_id)
    if fresh is None:
        raise AccessDenied()
    return fresh


def _export_json() -> bytes:
    data = export_patient(_fresh_principal(), pid)
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def _access_csv() -> bytes:
    rows = access_csv_rows(access_extract(_fresh_principal(), pid))
    # In the patient's language: role, action and outcome in words, not codes.
    words = [
        [at, user, t(f"role.{r}") if r else "", audit_label("action", a), audit_label("result", o), unit]
        for at, user, r, a, o, unit in rows
    ]
    return to_csv(access_header, words).encode("utf-8")


with st.expander(t("patients.request_title"), icon=":material/shield_person:"):
    st.caption(t("patients.request_help"))
    left, right = st.columns(2)
    left.download_button(
        t("patients.export_json"),
        data=_export_json,
        file_name=f"lotsa-{profile.pseudonym}-data.json",
        mime="application/json",
        on_click="ignore",
        icon=":material/download:",
        key="pr_export_json",
    )
    right.download_button(
        t("patients.export_access"),
        data=_access_csv,
        file_name=f"lotsa-{profile.pseudonym}-access.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key="pr_export_access",
    )
    if st.toggle(t("patients.show_access"), key=f"pr_show_access_{pid}"):
        try:
            rows = access_extract(principal, pid)
        except ServiceError as error:
            show_service_error(error)
        else:
            st.dataframe(
                {
                    t("patients.access_at"): [r.at.strftime("%Y-%m-%d %H:%M") for r in rows],
                    t("patients.access_user"): [r.user or "" for r in rows],
                    t("patients.access_role"): [t(f"role.{r.role}") if r.role else "" for r in rows],
                    t("patients.access_action"): [audit_label("action", r.action) for r in rows],
                    t("patients.access_outcome"): [audit_label("result", r.outcome) for r in rows],
                    t("patients.access_care_unit"): [r.care_unit or "" for r in rows],
                },
                hide_index=True,
                width="stretch",
            )
