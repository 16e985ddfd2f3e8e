"""Activity suggestions for one patient (`?patient=<id>`): a filter row, ranked suggestions with
their reasons, one-click referral with the contact person for the warm handover, the shortlist
with its printable copy in the patient's language, and recording a need nothing meets."""

from __future__ import annotations

import uuid
from datetime import date

import streamlit as st

from components.directory_filters import escape_md
from components.i18n import current_language, show_service_error, t
from components.query import query_id
from components.referral_followup import follow_up_choice, follow_up_done
from components.session import guard
from domain.care import NEED_CODES, OPEN_REFERRAL_STATUSES
from domain.markdown_safety import mailto_link, tel_link
from domain.matching import AGE_GROUPS, DAY_CODES, TIMES_OF_DAY
from domain.schedules import WEEKDAYS, format_occurrence
from services import matching, unmet
from services.caseload import patient_names
from services.directory import facet_options
from services.errors import AccessDenied, NotFound, ServiceError
from services.followup import referral_plan
from services.referrals import create_referral, patient_referrals

principal = guard("matching")
lang = current_language()
DISTANCES = (1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0)
MODES = ("any", "in_person", "online")


def _back(message: str, *, error: bool = False) -> None:
    st.title(t("page.matching"))
    (st.error if error else st.info)(message)
    st.page_link("app_pages/patients.py", label=t("matching.to_patients"), icon=":material/person_search:")
    st.stop()


patient_id = query_id("patient")
if patient_id is None:
    _back(t("matching.no_patient"))
try:
    facts = matching.patient_facts(principal, patient_id)
except AccessDenied:
    _back(t("error.access_denied"), error=True)
except NotFound:
    _back(t("matching.no_patient"))

P = f"match{patient_id}_"  # this patient's widget and state keys
state = st.session_state
terms = facet_options(lang).terms


def _km(value: float) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang in ("sv", "da") else text


def reasons_line(reasons: tuple[tuple, ...]) -> str:
    """("category", "walking"), ("weekday", "tue"), ... -> "Walking · Tuesdays · 1.2 km · free"."""
    parts: list[str] = []
    days: list[str] = []
    short_to_code = {v: k for k, v in DAY_CODES.items()}
    for reason in reasons:
        kind, value = reason[0], reason[1] if len(reason) > 1 else None
        if kind == "weekday":
            days.append(t(f"schedule.days.{short_to_code.get(value, 'MO')}"))
            if not parts or parts[-1] != "\0days":
                parts.append("\0days")
            continue
        if kind == "category":
            label = terms.get("category", {}).get(value, value)
            liked = ("interest", value) in reasons  # the interest is this very category
            parts.append(t("matching.reason_category_interest", category=label) if liked else label)
        elif kind == "interest":
            if any(r == ("category", value) for r in reasons):
                continue
            parts.append(t("matching.reason_interest", what=terms.get("category", {}).get(value, value)))
        elif kind == "daily":
            parts.append(t("schedule.daily"))
        elif kind == "time_of_day":
            parts.append(t(f"matching.tod_{value}"))
        elif kind == "distance":
            parts.append(t("matching.reason_km", km=_km(value)))
        elif kind == "online":
            parts.append(t("matching.reason_online"))
        elif kind == "free":
            parts.append(t("matching.reason_free"))
        elif kind == "language":
            parts.append(t("matching.reason_language", language=terms.get("language", {}).get(value, value)))
    joined = ", ".join(days[:-1]) + f" {t('schedule.and')} {days[-1]}" if len(days) > 1 else "".join(days)
    text = " · ".join(joined if p == "\0days" else p for p in parts)
    return text[:1].upper() + text[1:]


def _key(name: str) -> str:
    """An idempotency key kept for one thing on this page (a form, or a referral to one activity)."""
    keys = state.setdefault(P + "keys", {})
    if name not in keys:
        keys[name] = uuid.uuid4().hex
    return keys[name]


def _act(action, *args, **kwargs) -> None:
    """Run a shortlist change; show what went wrong, or rerun so every list shows the change."""
    try:
        action(principal, patient_id, *args, **kwargs)
    except ServiceError as error:
        show_service_error(error)
        return
    st.rerun()


# --- Header -------------------------------------------------------------------------------------

name = patient_names(principal, [patient_id]).get(patient_id)
st.title(t("matching.title", pseudonym=f"{escape_md(name)} · {facts.pseudonym}" if name else facts.pseudonym))
st.page_link(
    "app_pages/patient.py",
    label=t("matching.open_patient"),
    query_params={"patient": str(patient_id)},
    icon=":material/person:",
)
about = [
    t("matching.needs", needs=", ".join(t(f"matching.need.{n}") for n in facts.needs))
    if facts.needs
    else t("matching.no_needs")
]
if facts.age is not None:
    about.append(t("matching.age", n=facts.age))
about.append(terms.get("language", {}).get(facts.preferred_language, facts.preferred_language))
if facts.interests:
    categories = terms.get("category", {})
    liked = [categories.get(i.strip(), i.strip()) for i in facts.interests.split(",") if i.strip()]
    about.append(t("matching.interests", interests=", ".join(liked)))
st.caption(escape_md(" · ".join(about)))

# --- Filters -------------------------------------------------------------------------------------

top = st.columns([3, 2, 3], vertical_alignment="bottom")
mode = top[0].selectbox(
    t("matching.mode"), MODES, format_func=lambda m: t(f"matching.mode_{m}"), key=P + "mode"
)
max_km = top[1].selectbox(
    t("matching.max_km"),
    DISTANCES,
    index=DISTANCES.index(matching.DEFAULT_KM),
    format_func=lambda km: t("matching.reason_km", km=f"{km:g}"),
    key=P + "km",
)
when_row = st.columns([4, 3])
weekdays = when_row[0].pills(
    t("matching.weekdays"),
    WEEKDAYS,
    selection_mode="multi",
    format_func=lambda d: t(f"matching.day_{d}"),
    key=P + "days",
)
times = when_row[1].pills(
    t("matching.time_of_day"),
    TIMES_OF_DAY,
    selection_mode="multi",
    format_func=lambda x: t(f"matching.tod_{x}"),
    key=P + "tod",
)

try:
    suggestions = matching.suggest(
        principal, patient_id, mode=mode, weekdays=weekdays or None, time_of_day=times or None, max_km=max_km
    )
except ServiceError as error:
    show_service_error(error)
    suggestions = []

# --- Suggestions ---------------------------------------------------------------------------------

referred: dict[int, dict] = state.setdefault(P + "referred", {})  # made on this page: with the contact
already: dict[int, int] = {}  # service id -> id of an open referral made before
try:
    for ref in patient_referrals(principal, patient_id):
        if ref.status in OPEN_REFERRAL_STATUSES:
            already.setdefault(ref.service_id, ref.id)
except ServiceError:
    pass
try:
    programme_code = follow_up_choice(referral_plan(principal, patient_id), key=P + "follow_up")
except ServiceError as error:
    show_service_error(error)
    programme_code = "auto"  # the service's own default
st.subheader(t("matching.suggestions", n=len(suggestions)))
if not suggestions:
    st.info(t("matching.empty"))
for item in suggestions:
    sid = item.service_id
    with st.container(border=True, key=f"{P}card_{sid}"):
        left, right = st.columns([5, 2])
        with left:
            star = " ★" if item.favourite else ""
            st.markdown(f"**{escape_md(item.name)}**{star}  \n{escape_md(item.organization)}")
            st.markdown(escape_md(reasons_line(item.reasons)))
            facts_line = []
            if item.next_start is not None:
                facts_line.append(
                    t("matching.next", when=format_occurrence(item.next_start, item.next_end, lang))
                )
            if item.available is not None:
                facts_line.append(t("matching.places", n=item.available))
            if facts_line:
                st.caption(escape_md(" · ".join(facts_line)))
            st.page_link(
                "app_pages/activity.py",
                label=t("matching.details"),
                query_params={"id": str(sid)},
                icon=":material/info:",
            )
        with right:
            done = referred.get(sid)
            earlier = already.get(sid) if not done else None
            clicked = st.button(
                t("matching.referred") if done or earlier else t("matching.refer"),
                key=f"{P}refer_{sid}",
                type="primary",
                icon=":material/send:",
                disabled=bool(done or earlier),
                width="stretch",
            )
            if clicked and not done and not earlier:
                try:
                    view = create_referral(
                        principal,
                        patient_id=patient_id,
                        service_id=sid,
                        need=item.need,
                        idempotency_key=_key(f"refer_{sid}"),
                        programme_code=programme_code,
                    )
                except ServiceError as error:
                    show_service_error(error)
                else:
                    referred[sid] = {
                        "id": view.id,
                        "name": view.contact_name or item.contact_name,
                        "phone": view.contact_phone or item.contact_phone,
                        "email": view.contact_email or item.contact_email,
                        "follow_up": follow_up_done(view.follow_up),
                    }
                    st.rerun()  # show the card as referred, with the contact person
            if st.button(
                t("matching.shortlisted") if item.shortlisted else t("matching.shortlist"),
                key=f"{P}keep_{sid}",
                icon=":material/bookmark_added:" if item.shortlisted else ":material/bookmark_add:",
                width="stretch",
            ):
                if item.shortlisted:
                    _act(matching.remove_from_shortlist, sid)
                else:
                    _act(matching.add_to_shortlist, sid)
            if st.button(
                t("matching.unfavourite") if item.favourite else t("matching.favourite"),
                key=f"{P}fav_{sid}",
                icon=":material/star:" if item.favourite else ":material/star_border:",
                width="stretch",
            ):
                _act(matching.set_favourite, sid, not item.favourite)
        if earlier:
            st.page_link(
                "app_pages/referral.py",
                label=t("matching.open_earlier_referral"),
                query_params={"id": str(earlier)},
                icon=":material/send:",
            )
        if done:
            contact = [escape_md(done["name"] or t("matching.no_contact"))]
            if done["phone"]:
                contact.append(
                    f":material/call: {tel_link(done['phone'])}"
                )
            if done["email"]:
                contact.append(f":material/mail: {mailto_link(done['email'])}")
            st.success(t("matching.refer_done") + "\n\n" + "  \n".join(contact))
            if done.get("follow_up"):
                st.info(done["follow_up"], icon=":material/event_repeat:")
            st.page_link(
                "app_pages/referral.py",
                label=t("matching.open_referral"),
                query_params={"id": str(done["id"])},
                icon=":material/send:",
            )

# --- Shortlist -------------------------------------------------------------------------------------

entries = matching.shortlist(principal, patient_id)
st.subheader(t("matching.shortlist_title", n=len(entries)))
if not entries:
    st.caption(t("matching.shortlist_empty"))
for entry in entries:
    row = st.columns([6, 2, 2], vertical_alignment="center")
    status = "" if entry.public else f" — {t('matching.not_public')}"
    star = "★ " if entry.favourite else ""
    row[0].markdown(f"{star}**{escape_md(entry.name)}** · {escape_md(entry.organization)}{status}")
    if row[1].button(
        t("matching.unfavourite") if entry.favourite else t("matching.favourite"),
        key=f"{P}sfav_{entry.service_id}",
        icon=":material/star:" if entry.favourite else ":material/star_border:",
        width="stretch",
    ):
        _act(matching.set_favourite, entry.service_id, not entry.favourite)
    if row[2].button(
        t("matching.remove"), key=f"{P}srm_{entry.service_id}", icon=":material/delete:", width="stretch"
    ):
        _act(matching.remove_from_shortlist, entry.service_id)
if entries:
    who, pid = principal, patient_id  # the download runs on its own thread: capture, don't look up
    doc_lang = facts.preferred_language if facts.preferred_language in ("sv", "da", "en") else lang
    st.download_button(
        t("matching.download", language=t(f"matching.lang_{doc_lang}")),
        data=lambda: matching.shortlist_document(who, pid)[1],
        file_name=matching.document_filename(facts.pseudonym, date.today()),
        mime="text/html",
        key=P + "download",
        icon=":material/print:",
        on_click="ignore",
    )

# --- A need with no fitting activity --------------------------------------------------------------

with st.expander(t("matching.unmet_title"), expanded=not suggestions, icon=":material/report:"):
    st.caption(t("matching.unmet_help"))
    notice = state.pop(P + "unmet_notice", None)
    if notice:
        st.success(notice)
    needs = [*facts.needs, *(n for n in NEED_CODES if n not in facts.needs)]
    # Keys carry the filter, so the form starts again from the filter's days and time when it changes.
    U = f"{P}u_{'-'.join(weekdays or ())}_{'-'.join(times or ())}_"
    with st.form(P + "unmet_form"):
        c1, c2 = st.columns(2)
        need = c1.selectbox(
            t("matching.unmet_need"), needs, format_func=lambda n: t(f"matching.need.{n}"), key=U + "need"
        )
        age = c2.selectbox(
            t("matching.unmet_age"),
            AGE_GROUPS,
            index=AGE_GROUPS.index(facts.age_group) if facts.age_group in AGE_GROUPS else None,
            key=U + "age",
            placeholder=t("widget.choose_one"),
        )
        days = c1.multiselect(
            t("matching.weekdays"),
            WEEKDAYS,
            default=list(weekdays or ()),
            format_func=lambda d: t(f"matching.day_{d}"),
            key=U + "days",
            placeholder=t("widget.choose_many"),
        )
        when = c2.selectbox(
            t("matching.time_of_day"),
            TIMES_OF_DAY,
            index=TIMES_OF_DAY.index(times[0]) if times else None,
            format_func=lambda x: t(f"matching.tod_{x}"),
            key=U + "tod",
            placeholder=t("widget.choose_one"),
        )
        area = st.text_input(t("matching.unmet_area"), key=U + "area", max_chars=120)
        if st.form_submit_button(t("matching.unmet_save"), icon=":material/save:"):
            try:
                unmet.record_unmet_need(
                    principal,
                    centre_id=facts.centre_id,
                    need=need,
                    area=area or None,
                    days=days or None,
                    time_of_day=when,
                    age_group=age,
                    sex=facts.sex,
                    idempotency_key=_key("unmet"),
                )
            except ServiceError as error:
                show_service_error(
                    error,
                    {
                        "need": t("matching.unmet_need"),
                        "days": t("matching.weekdays"),
                        "time_of_day": t("matching.time_of_day"),
                        "age_group": t("matching.unmet_age"),
                        "area": t("matching.unmet_area"),
                    },
                )
            else:
                state[P + "keys"].pop("unmet", None)  # a new key for the next need
                state[P + "unmet_notice"] = t("matching.unmet_saved")
                st.rerun()
