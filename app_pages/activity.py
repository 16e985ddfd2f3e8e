"""One activity, with all a connector needs to refer by phone: when, where, who to call, cost."""

from pathlib import Path

import streamlit as st

from components import maps
from components.directory_filters import escape_md, filter_params
from components.i18n import current_language, t, tn
from components.navigation import allowed
from components.query import query_id
from components.session import guard
from domain.markdown_safety import mailto_link, md_inline, tel_link
from domain.schedules import format_occurrence
from services.directory import activity_detail, may_edit
from services.directory_edit import history
from services.errors import ServiceError
from settings import get_settings

principal = guard("activity", public=True)
lang = current_language()
ROOT = Path(__file__).resolve().parents[1]
EDIT_PAGE = "app_pages/activity_edit.py"


def _ages(low: int | None, high: int | None) -> str | None:
    if low is not None and high is not None:
        return t("activity.ages_between", low=low, high=high)
    if low is not None:
        return t("activity.ages_from", low=low)
    if high is not None:
        return t("activity.ages_to", high=high)
    return None


def _field_label(name: str) -> str:
    for key in (f"edit.{name}", f"edit.field_{name}", f"activity.{name}"):
        text = t(key)
        if text != key:
            return text
    return name


def _history(service_id: int) -> dict[str, list]:
    """The change history as table columns."""
    entries = history(service_id, principal)
    return {
        t("activity.history_when"): [f"{e.at:%Y-%m-%d %H:%M}" for e in entries],
        t("activity.history_who"): [e.user for e in entries],
        t("activity.history_field"): [_field_label(e.field) for e in entries],
        t("activity.history_old"): [e.old or "" for e in entries],
        t("activity.history_new"): [e.new or "" for e in entries],
    }


def _back() -> None:
    st.page_link(
        "app_pages/directory.py",
        label=t("activity.back"),
        icon=":material/arrow_back:",
        query_params=filter_params(),
    )


service_id = query_id("id")
try:
    if service_id is None:
        raise LookupError
    item = activity_detail(service_id, lang, principal=principal)
except (LookupError, ServiceError):
    st.title(t("page.activity"))
    st.info(t("activity.not_found"))
    _back()
    st.stop()

_back()
st.title(md_inline(item.name))
st.caption(f"{escape_md(item.organization)} · {' · '.join(escape_md(c) for c in item.categories)}")
if not item.public:
    reason = "inactive" if item.status != "active" else item.approval_status
    st.warning(t("activity.not_public", status=t(f"activity.status_{reason}")))
if item.days_since_verified is None:
    st.caption(t("activity.never_verified"))
elif item.days_since_verified > get_settings().stale_days:
    st.warning(t("activity.verified_stale", n=item.days_since_verified))
else:
    st.caption(
        t(
            f"activity.verified_{item.days_since_verified}"
            if item.days_since_verified < 2
            else "activity.verified",
            n=item.days_since_verified,
        )
    )

if may_edit(principal, item.organization_id) and (ROOT / EDIT_PAGE).exists():
    try:
        editable = allowed("activity_edit", principal.role)
    except KeyError:
        editable = False
    if editable:
        st.page_link(
            EDIT_PAGE, label=t("activity.edit"), icon=":material/edit:", query_params={"id": str(item.id)}
        )

left, right = st.columns([3, 2])
with left:
    st.markdown(escape_md(item.description) if item.description else t("activity.no_description"))
    st.subheader(t("activity.when"))
    st.markdown(escape_md(item.schedule_text) or t("activity.no_schedule"))
    if item.rolling_start:
        st.caption(t("activity.rolling_start"))
    elif item.start_date:
        st.caption(t("activity.start_date", date=item.start_date.isoformat()))
    if item.next_dates:
        lines = [f"- {format_occurrence(s, e, lang)}" for s, e in item.next_dates]
        st.markdown(t("activity.next_dates") + "\n" + "\n".join(lines))
    st.subheader(t("activity.who_for"))
    facts = [
        (t("activity.eligibility"), item.eligibility),
        (t("activity.ages"), _ages(item.minimum_age, item.maximum_age)),
        (t("activity.target_groups"), ", ".join(item.target_groups)),
        (t("activity.languages"), ", ".join(item.languages)),
        (t("activity.accessibility"), ", ".join(item.accessibility) or t("activity.accessibility_unknown")),
    ]
    for label, value in facts:
        if value:
            st.markdown(f"**{label}:** {escape_md(value)}")

with right:
    with st.container(border=True):
        st.subheader(t("activity.contact"))
        if item.contact_name:
            title = f", {escape_md(item.contact_title)}" if item.contact_title else ""
            st.markdown(f"**{escape_md(item.contact_name)}**{title}")
        for number in item.contact_phones:
            st.markdown(f":material/call: {tel_link(number)}")
        if item.contact_email:
            st.markdown(f":material/mail: {mailto_link(item.contact_email)}")
        if not (item.contact_name or item.contact_phones or item.contact_email):
            st.caption(t("activity.no_contact"))
    with st.container(border=True):
        st.subheader(t("activity.cost"))
        if item.is_free:
            st.markdown(t("activity.free"))
        for cost in item.costs:
            amount = f"{cost.amount:g} {cost.currency}" if cost.amount is not None else ""
            st.markdown(
                " · ".join(escape_md(p) for p in (cost.option or "", amount, cost.description or "") if p)
            )
        if item.fees and not item.costs:
            st.markdown(escape_md(item.fees))
        if item.available is not None:
            places = tn("activity.places", item.available, maximum=item.maximum or "?")
            st.markdown(f"**{places}**")
            if item.places_updated:
                st.caption(t("activity.places_updated", date=f"{item.places_updated:%Y-%m-%d}"))
    st.subheader(t("activity.where"))
    for place in item.places:
        st.markdown(f"**{escape_md(place.name or '')}**  \n{escape_md(place.address or '')}")
    if item.places and maps.on_map(item.places[0].latitude, item.places[0].longitude):
        first = item.places[0]
        st.pydeck_chart(
            maps.place_deck(first.latitude, first.longitude, item.name, height=260),
            key="activity_map",
            alt=t("activity.map_alt", name=item.name),
        )
    for url in item.online_urls:
        st.link_button(t("activity.online_link"), url, icon=":material/videocam:")
    if not item.places and not item.online_urls:
        st.caption(t("activity.no_place"))

if principal is not None and may_edit(principal, item.organization_id):
    changes = _history(item.id)
    n = len(next(iter(changes.values())))
    with st.expander(t("activity.history", n=n), icon=":material/history:"):
        if n:
            st.dataframe(changes, hide_index=True, width="stretch")
        else:
            st.caption(t("activity.history_empty"))

if item.public:
    st.page_link(
        "app_pages/suggest.py",
        label=t("activity.suggest_correction"),
        icon=":material/feedback:",
        query_params={"id": str(item.id)},
    )
