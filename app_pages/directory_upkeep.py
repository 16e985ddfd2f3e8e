"""Keep the directory fresh: free places and "still correct" in one click, the stale list with the
contact person to call, activities awaiting approval, and the public suggestions to moderate.

Partners see their own organisations' activities; managers and admins see everything and moderate.
"""

import streamlit as st

from components.confirm import ask, confirm_dialog, pop_notice, push_notice
from components.directory_filters import escape_md
from components.i18n import show_service_error, t
from components.session import guard
from domain.markdown_safety import mailto_link, tel_link
from services.directory_edit import (
    MODERATORS,
    awaiting_approval,
    awaiting_count,
    own_activities,
    pending_suggestion_count,
    review_suggestion,
    set_approval,
    set_free_places,
    stale,
    stale_count,
    suggestions,
    verify,
)
from services.errors import ServiceError
from settings import get_settings

principal = guard("directory_upkeep")
moderator = principal.role in MODERATORS
SHOWN = 20  # rows per list: national size has thousands waiting; the counts say how many
PAYLOAD_LABELS = {
    "contact_name": "edit.contact_name",
    "contact_phone": "suggest.contact_phone_long",
    "contact_email": "suggest.contact_email_long",
}
EDIT_PAGE = "app_pages/activity_edit.py"
ACTIVITY_PAGE = "app_pages/activity.py"

st.title(t("page.directory_upkeep"))
st.caption(
    t("upkeep.intro_moderator" if moderator else "upkeep.intro_partner", days=get_settings().stale_days)
)
st.page_link(EDIT_PAGE, label=t("upkeep.add"), icon=":material/add:")

for notice_key in ("upkeep", "suggestion_reject"):
    notice = pop_notice(notice_key)
    if notice:
        st.success(notice)


def _verified(row) -> str:
    if row.days_since_verified is None:
        return f":orange[{t('activity.never_verified')}]"
    days = row.days_since_verified
    text = t(f"activity.verified_{days}" if days < 2 else "activity.verified", n=days)
    return (
        f":orange[:material/warning: {text}]" if row.days_since_verified > get_settings().stale_days else text
    )


def _contact(row) -> str:
    parts = [escape_md(row.contact_name or "")]
    if row.contact_phone:
        parts.append(tel_link(row.contact_phone))
    if row.contact_email:
        parts.append(mailto_link(row.contact_email))
    return " · ".join(p for p in parts if p) or t("activity.no_contact")


def _links(column, row) -> None:
    column.page_link(ACTIVITY_PAGE, label=t("upkeep.open"), query_params={"id": str(row.id)})
    column.page_link(EDIT_PAGE, label=t("activity.edit"), query_params={"id": str(row.id)})


def _verify_button(column, row, where: str) -> None:
    if column.button(t("upkeep.still_correct"), key=f"verify_{where}_{row.id}", icon=":material/verified:"):
        try:
            verify(principal, row.id)
        except ServiceError as error:
            show_service_error(error)
        else:
            push_notice("upkeep", t("upkeep.verified_done", name=row.name))
            st.rerun()


def stale_list(total: int) -> None:
    if not total:
        st.success(t("upkeep.nothing_stale", days=get_settings().stale_days))
        return
    rows = stale(principal, limit=SHOWN)
    st.caption(t("upkeep.stale_count", shown=len(rows), total=total, days=get_settings().stale_days))
    for row in rows:
        with st.container(border=True):
            main, actions = st.columns([4, 3])
            main.markdown(f"**{escape_md(row.name)}**  \n{escape_md(row.organization)} · {_verified(row)}")
            main.markdown(f":material/call: {_contact(row)}")
            _verify_button(actions, row, "stale")
            _links(actions, row)


def places_list() -> None:
    rows = own_activities(principal)
    if not rows:
        st.info(t("upkeep.no_activities"))
        return
    st.caption(t("upkeep.places_hint"))
    for row in rows:
        with st.container(border=True):
            main, places, actions = st.columns([4, 3, 3], vertical_alignment="center")
            status = (
                ""
                if row.approval_status == "approved"
                else f" · {t(f'activity.status_{row.approval_status}')}"
            )
            main.markdown(
                f"**{escape_md(row.name)}**{status}  \n{escape_md(row.organization)} · {_verified(row)}"
            )
            with places.form(f"places_{row.id}", border=False):
                left, right = st.columns([2, 1], vertical_alignment="bottom")
                free = left.number_input(
                    t("upkeep.free_places", maximum=row.maximum if row.maximum is not None else "?"),
                    min_value=0,
                    max_value=10_000,
                    step=1,
                    value=row.available,
                    key=f"free_{row.id}",
                )
                saved = right.form_submit_button(t("upkeep.save_places"))
            if saved:
                try:
                    set_free_places(principal, row.id, free)
                except ServiceError as error:
                    places.error(
                        t(error.key, **error.params)
                        if not getattr(error, "fields", None)
                        else "; ".join(t(k, **p) for k, p in error.fields.values())
                    )
                else:
                    push_notice("upkeep", t("upkeep.places_saved", name=row.name, n=free))
                    st.rerun()
            _verify_button(actions, row, "own")
            _links(actions, row)


def approval_list(total: int) -> None:
    rows = awaiting_approval(principal, limit=SHOWN)
    if not rows:
        st.success(t("upkeep.nothing_waiting"))
        return
    if total > len(rows):
        st.caption(t("upkeep.showing_oldest", shown=len(rows), total=total))
    for row in rows:
        with st.container(border=True):
            main, actions = st.columns([4, 3])
            main.markdown(f"**{escape_md(row.name)}**  \n{escape_md(row.organization)}")
            main.markdown(f":material/call: {_contact(row)}")
            if moderator and actions.button(
                t("upkeep.approve"), key=f"approve_{row.id}", type="primary", icon=":material/publish:"
            ):
                set_approval(principal, row.id, True)
                push_notice("upkeep", t("upkeep.approved_named", name=row.name))
                st.rerun()
            _links(actions, row)


def _reject(payload) -> str:
    suggestion_id, note = payload
    review_suggestion(principal, suggestion_id, accept=False, note=note)
    return t("upkeep.suggestion_rejected")


def suggestion_list(total: int) -> None:
    confirm_dialog(
        "suggestion_reject",
        title=t("upkeep.reject_title"),
        body=lambda p: t("upkeep.reject_body"),
        on_yes=_reject,
    )
    rows = suggestions(principal, limit=SHOWN)
    if not rows:
        st.success(t("upkeep.no_suggestions"))
        return
    if total > len(rows):
        st.caption(t("upkeep.showing_oldest", shown=len(rows), total=total))
    for row in rows:
        with st.container(border=True):
            kind = t(f"suggest.kind_{row.kind}")
            title = row.payload.get("name") if row.kind == "new" else row.service_name
            st.markdown(f"**{kind}: {escape_md(title or '')}** · {row.created_at:%Y-%m-%d %H:%M}")
            details = [
                (t(PAYLOAD_LABELS.get(name, f"suggest.{name}")), value)
                for name, value in row.payload.items()
                if name != "name" and value
            ]
            if row.message:
                details.append((t("suggest.message"), row.message))
            sender = " · ".join(x for x in (row.submitter_name, row.submitter_email) if x)
            if sender:
                details.append((t("suggest.sender"), sender))
            for label, value in details:
                st.markdown(f"**{label}:** {escape_md(value)}")
            left, mid, right = st.columns([2, 2, 3])
            if left.button(
                t("upkeep.accept"), key=f"accept_{row.id}", type="primary", icon=":material/check:"
            ):
                try:
                    created = review_suggestion(principal, row.id, accept=True)
                except ServiceError as error:
                    show_service_error(error)
                else:
                    if created is not None:
                        st.switch_page(EDIT_PAGE, query_params={"id": str(created)})
                    push_notice("upkeep", t("upkeep.suggestion_accepted"))
                    st.rerun()
            if mid.button(t("upkeep.reject"), key=f"reject_{row.id}", icon=":material/close:"):
                ask("suggestion_reject", (row.id, None))
                st.rerun()
            if row.service_id:
                right.page_link(EDIT_PAGE, label=t("activity.edit"), query_params={"id": str(row.service_id)})


# Counts for the tab labels; each list shows at most SHOWN rows (national: thousands are waiting).
n_stale = stale_count(principal)
if moderator:
    n_waiting, n_suggestions = awaiting_count(principal), pending_suggestion_count(principal)
    tabs = st.tabs(
        [
            t("upkeep.tab_suggestions", n=n_suggestions),
            t("upkeep.tab_approval", n=n_waiting),
            t("upkeep.tab_stale", n=n_stale),
        ]
    )
    with tabs[0]:
        suggestion_list(n_suggestions)
    with tabs[1]:
        approval_list(n_waiting)
    with tabs[2]:
        stale_list(n_stale)
else:
    tabs = st.tabs([t("upkeep.tab_mine"), t("upkeep.tab_stale", n=n_stale)])
    with tabs[0]:
        places_list()
    with tabs[1]:
        stale_list(n_stale)
