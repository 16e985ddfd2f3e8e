"""Edit an activity (?id=N) or add one for an organisation (?org=N).

Plain widgets with keys rather than one st.form, so the place fields follow the chosen way of placing
and the map preview follows the coordinates as they are typed. Everything typed stays in the session
state until saved; the service validates all of it and writes all or nothing.
"""

from datetime import time

import streamlit as st

from components import maps
from components.directory_filters import escape_md
from components.i18n import current_language, show_service_error, t
from components.query import query_id
from components.session import guard
from domain import validation as v
from domain.activities import ATTENDING, FREQUENCIES, PLACE_MODES, SET_POSITIONS, STATUSES
from domain.markdown_safety import md_inline
from services import geocode
from services.directory import WEEKDAYS, facet_options
from services.directory_edit import MODERATORS, edit_form, editable_organizations, save_activity, set_approval
from services.errors import ServiceError

principal = guard("activity_edit")
lang = current_language()
options = facet_options(lang)
terms = options.terms

LABELS = {
    "name": t("edit.name"),
    "category": t("edit.category"),
    "description": t("edit.description"),
    "target_groups": t("activity.target_groups"),
    "minimum_age": t("edit.minimum_age"),
    "maximum_age": t("edit.maximum_age"),
    "eligibility": t("activity.eligibility"),
    "languages": t("activity.languages"),
    "accessibility": t("activity.accessibility"),
    "attending_type": t("edit.attending_type"),
    "url": t("edit.url"),
    "email": t("edit.email"),
    "freq": t("edit.freq"),
    "weekdays": t("edit.weekdays"),
    "setpos": t("edit.setpos"),
    "monthdays": t("edit.monthdays"),
    "interval": t("edit.interval"),
    "opens_at": t("edit.opens_at"),
    "closes_at": t("edit.closes_at"),
    "dtstart": t("edit.dtstart"),
    "until": t("edit.until"),
    "rolling_start": t("edit.rolling_start"),
    "start_date": t("edit.start_date"),
    "is_free": t("activity.free"),
    "fees": t("edit.fees"),
    "contact_name": t("edit.contact_name"),
    "contact_title": t("edit.contact_title"),
    "contact_phone": t("edit.contact_phone"),
    "contact_email": t("edit.contact_email"),
    "place_mode": t("edit.place_mode"),
    "location_id": t("edit.location"),
    "place_name": t("edit.place_name"),
    "street": t("edit.street"),
    "postal_code": t("edit.postal_code"),
    "city": t("edit.city"),
    "latitude": t("edit.latitude"),
    "longitude": t("edit.longitude"),
    "available": t("edit.available"),
    "maximum": t("edit.maximum"),
    "status": t("edit.status"),
}


service_id, org_id = query_id("id"), query_id("org")
if service_id is None and org_id is None:
    st.title(t("edit.new_title"))
    organizations = editable_organizations(principal)
    if not organizations:
        st.info(t("edit.no_organizations"))
        st.stop()
    if len(organizations) == 1:
        org_id = next(iter(organizations))
    else:
        chosen = st.selectbox(t("edit.organization"), list(organizations), format_func=organizations.get)
        if st.button(t("edit.continue"), type="primary"):
            st.query_params["org"] = str(chosen)
            st.rerun()
        st.stop()

try:
    form = edit_form(principal, service_id, org_id)
except ServiceError as error:
    st.title(t("page.activity_edit"))
    show_service_error(error)
    st.stop()

# Seed the widgets once per activity; after that the session state holds what the user typed.
# (Streamlit drops a widget's state when its page is left, so coming back seeds afresh.)
PREFIX = f"ae{form.service_id or 'new'}_{form.organization_id}_"
if PREFIX + "name" not in st.session_state:
    for name, value in form.values.items():
        if name in ("weekdays", "target_groups", "accessibility", "languages"):
            value = list(value or ())
        elif name == "monthdays":
            value = ", ".join(str(d) for d in value or ())
        elif name in ("latitude", "longitude", "url", "email", "fees", "eligibility", "place_name", "street"):
            value = "" if value is None else str(value)
        elif name in (
            "postal_code",
            "city",
            "contact_name",
            "contact_title",
            "contact_phone",
            "contact_email",
        ):
            value = value or ""
        st.session_state[PREFIX + name] = value


def key(name: str) -> str:
    return PREFIX + name


title = md_inline(form.values.get("name")) if form.service_id else ""
st.title(title or t("edit.new_title"))
st.caption(escape_md(form.organization))
if form.service_id:
    st.page_link(
        "app_pages/activity.py",
        label=t("edit.back_to_activity"),
        icon=":material/arrow_back:",
        query_params={"id": str(form.service_id)},
    )
    if form.approval_status != "approved":
        st.warning(t("activity.not_public", status=t(f"activity.status_{form.approval_status}")))
        if principal.role in MODERATORS:
            left, right = st.columns(2)
            if left.button(t("upkeep.approve"), icon=":material/publish:", type="primary", key="publish"):
                set_approval(principal, form.service_id, True)
                st.session_state["edit_notice"] = t("upkeep.approved")
                st.rerun()
            if form.approval_status == "pending" and right.button(t("upkeep.reject"), key="reject"):
                set_approval(principal, form.service_id, False)
                st.rerun()
elif principal.role not in MODERATORS:
    st.info(t("edit.needs_approval"))

notice = st.session_state.pop("edit_notice", None)
if notice:
    st.success(notice)

st.subheader(t("edit.section_what"))
st.text_input(LABELS["name"], key=key("name"), max_chars=300)
categories = terms.get("category", {})
if st.session_state.get(key("category")) not in categories:
    st.session_state[key("category")] = None
st.selectbox(
    LABELS["category"],
    list(categories),
    format_func=categories.get,
    key=key("category"),
    index=None,
    placeholder=t("edit.choose"),
)
st.text_area(LABELS["description"], key=key("description"), max_chars=5000, height=140)
left, right = st.columns(2)
left.selectbox(LABELS["status"], STATUSES, format_func=lambda s: t(f"edit.status_{s}"), key=key("status"))

st.subheader(t("edit.section_who"))
st.multiselect(
    LABELS["target_groups"],
    list(terms.get("target_group", {})),
    format_func=terms["target_group"].get,
    key=key("target_groups"),
    placeholder=t("edit.choose"),
)
left, mid, right = st.columns(3)
left.number_input(
    LABELS["minimum_age"], min_value=0, max_value=120, step=1, value=None, key=key("minimum_age")
)
mid.number_input(
    LABELS["maximum_age"], min_value=0, max_value=120, step=1, value=None, key=key("maximum_age")
)
st.text_input(LABELS["eligibility"], key=key("eligibility"), max_chars=2000)
left, right = st.columns(2)
left.multiselect(
    LABELS["languages"],
    list(terms.get("language", {})),
    format_func=terms["language"].get,
    key=key("languages"),
    placeholder=t("edit.choose"),
)
right.multiselect(
    LABELS["accessibility"],
    list(terms.get("accessibility", {})),
    format_func=terms["accessibility"].get,
    key=key("accessibility"),
    placeholder=t("edit.choose"),
)

st.subheader(t("edit.section_when"))
day_names = {code: t(f"schedule.day.{code}") for code in WEEKDAYS}
freq = st.radio(
    LABELS["freq"], FREQUENCIES, format_func=lambda f: t(f"edit.freq_{f}"), horizontal=True, key=key("freq")
)
if freq != "DAILY":
    st.pills(
        LABELS["weekdays"], WEEKDAYS, selection_mode="multi", format_func=day_names.get, key=key("weekdays")
    )
if freq == "MONTHLY":
    left, right = st.columns(2)
    left.selectbox(
        LABELS["setpos"],
        [None, *SET_POSITIONS],
        format_func=lambda p: t(f"edit.setpos_{p}".replace("-", "minus")),
        key=key("setpos"),
    )
    right.text_input(LABELS["monthdays"], key=key("monthdays"), placeholder="1, 15", max_chars=100)
cols = st.columns(4)
cols[0].time_input(LABELS["opens_at"], value=None, step=900, key=key("opens_at"))
cols[1].time_input(LABELS["closes_at"], value=None, step=900, key=key("closes_at"))
cols[2].date_input(LABELS["dtstart"], value=None, key=key("dtstart"), format="YYYY-MM-DD")
cols[3].date_input(LABELS["until"], value=None, key=key("until"), format="YYYY-MM-DD")
left, right = st.columns(2)
left.number_input(
    LABELS["interval"], min_value=1, max_value=52, step=1, key=key("interval"), help=t("edit.interval_help")
)
rolling = right.checkbox(LABELS["rolling_start"], key=key("rolling_start"))
if not rolling:
    right.date_input(LABELS["start_date"], value=None, key=key("start_date"), format="YYYY-MM-DD")

st.subheader(t("edit.section_where"))
attending = st.radio(
    LABELS["attending_type"],
    ATTENDING,
    format_func=lambda a: t(f"directory.att_{a}"),
    horizontal=True,
    key=key("attending_type"),
)
if attending in ("online", "hybrid"):
    st.text_input(LABELS["url"], key=key("url"), placeholder="https://", max_chars=500)
preview = None
if attending in ("in_person", "hybrid"):
    modes = [m for m in PLACE_MODES if m != "none" and (m != "existing" or form.places)]
    if st.session_state.get(key("place_mode")) not in modes:
        st.session_state[key("place_mode")] = modes[0]
    mode = st.radio(
        LABELS["place_mode"],
        modes,
        format_func=lambda m: t(f"edit.place_{m}"),
        horizontal=True,
        key=key("place_mode"),
    )
    if mode == "existing":
        if st.session_state.get(key("location_id")) not in form.places:
            st.session_state[key("location_id")] = next(iter(form.places))
        st.selectbox(
            LABELS["location_id"], list(form.places), format_func=form.places.get, key=key("location_id")
        )
    else:
        st.text_input(LABELS["place_name"], key=key("place_name"), max_chars=300)
        left, mid, right = st.columns([3, 1, 2])
        left.text_input(LABELS["street"], key=key("street"), max_chars=300)
        mid.text_input(LABELS["postal_code"], key=key("postal_code"), max_chars=16)
        right.text_input(LABELS["city"], key=key("city"), max_chars=120)
        if geocode.enabled():
            if st.button(t("edit.geocode"), icon=":material/search:"):
                address = ", ".join(
                    str(st.session_state.get(key(f)) or "") for f in ("street", "postal_code", "city")
                )
                try:
                    found_lat, found_lon = geocode.geocode(address)
                except ServiceError as error:
                    show_service_error(error)
                else:
                    st.session_state[key("latitude")] = f"{found_lat:.6f}"
                    st.session_state[key("longitude")] = f"{found_lon:.6f}"
                    st.rerun()
        else:
            st.caption(t("edit.geocoder_off_hint"))
        left, right = st.columns(2)
        left.text_input(LABELS["latitude"], key=key("latitude"), placeholder="55.6050")
        right.text_input(LABELS["longitude"], key=key("longitude"), placeholder="13.0038")
        try:
            lat = v.latitude(st.session_state.get(key("latitude")))
            lon = v.longitude(st.session_state.get(key("longitude")))
        except v.FieldError as error:
            st.warning(t(error.key, **error.params))
        else:
            if lat is not None and lon is not None:
                preview = (lat, lon)
if preview:
    st.caption(t("edit.preview"))
    st.pydeck_chart(
        maps.place_deck(preview[0], preview[1], st.session_state.get(key("name")) or "", height=240),
        key="edit_preview_map",
    )

st.subheader(t("edit.section_contact"))
left, right = st.columns(2)
left.text_input(LABELS["contact_name"], key=key("contact_name"), max_chars=200)
right.text_input(LABELS["contact_title"], key=key("contact_title"), max_chars=200)
left.text_input(LABELS["contact_phone"], key=key("contact_phone"), max_chars=40)
right.text_input(LABELS["contact_email"], key=key("contact_email"), max_chars=200)
st.text_input(LABELS["email"], key=key("email"), max_chars=200, help=t("edit.email_help"))

st.subheader(t("edit.section_cost_places"))
free = st.checkbox(LABELS["is_free"], key=key("is_free"))
if not free:
    st.text_input(LABELS["fees"], key=key("fees"), max_chars=500)
left, right = st.columns(2)
left.number_input(
    LABELS["available"], min_value=0, max_value=10_000, step=1, value=None, key=key("available")
)
right.number_input(LABELS["maximum"], min_value=0, max_value=10_000, step=1, value=None, key=key("maximum"))


def _values() -> dict:
    values = {name: st.session_state.get(key(name)) for name in LABELS}
    if values["attending_type"] == "online":
        values["place_mode"] = "none"
    for name in ("opens_at", "closes_at"):
        if isinstance(values[name], time):
            values[name] = values[name].strftime("%H:%M")
    return values


if st.button(t("edit.save"), type="primary", icon=":material/save:", key="save_activity"):
    try:
        result = save_activity(
            principal, _values(), service_id=form.service_id, organization_id=form.organization_id
        )
    except ServiceError as error:
        show_service_error(error, LABELS)
    else:
        for warning_key, params in result.warnings:
            st.warning(t(warning_key, **params))
        message = t("edit.saved", n=len(result.changed))
        st.session_state["edit_notice"] = message
        if form.service_id is None:
            st.query_params.clear()
            st.query_params["id"] = str(result.service_id)
        if not result.warnings:
            st.rerun()
        st.success(message)
