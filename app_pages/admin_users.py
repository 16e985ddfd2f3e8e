"""User administration: who may use Lotsa, with which role, for which centres or organisations.

Only the open tab runs (issue 14): the list is one page of accounts searched and counted in SQL,
and the thousands of centres and organisations an account may be scoped to are offered (from a
cache under their data version) only in the new-user and edit forms.
"""

import contextlib

import streamlit as st

from components.confirm import ask, confirm_dialog, pop_notice
from components.i18n import show_service_error, t
from components.session import guard
from domain.markdown_safety import md_inline
from locales import LANGUAGE_NAMES, LANGUAGES
from services.errors import ServiceError
from services.principal import ROLES
from services.users import (
    create_user,
    get_user,
    reset_password,
    scope_options,
    search_users,
    set_active,
    update_user,
)

principal = guard("admin_users")
PAGE_SIZE = 25
CHOICES = 50  # accounts offered in the edit tab's chooser (narrowed by its search)
state = st.session_state

FIELD_LABELS = {
    "username": t("admin.username"),
    "display_name": t("admin.display_name"),
    "email": t("admin.email"),
    "role": t("admin.role"),
    "password": t("admin.password"),
    "language": t("account.language"),
    "centre_ids": t("admin.centres"),
    "organization_ids": t("admin.organizations"),
    "is_active": t("admin.active"),
}

st.title(t("page.admin_users"))
st.caption(t("admin.users_intro"))


def _scope_text(row, centres: dict[int, str], organizations: dict[int, str]) -> str:
    names = [centres.get(c, "?") for c in row.centre_ids]
    names += [organizations.get(o, "?") for o in row.organization_ids]
    return ", ".join(names)


list_tab, create_tab, edit_tab = st.tabs(
    [t("admin.tab_list"), t("admin.tab_create"), t("admin.tab_edit")], key="users_tab", on_change="rerun"
)


def _user_list() -> None:
    query_col, role_col = st.columns([3, 2])
    query = query_col.text_input(t("admin.search"), key="users_query", placeholder=t("admin.search_hint"))
    role_filter = role_col.multiselect(
        t("admin.role"),
        ROLES,
        format_func=lambda r: t(f"role.{r}"),
        key="users_roles",
        placeholder=t("widget.choose_many"),
    )
    wanted = (query.strip(), tuple(role_filter))
    if state.get("users_wanted") != wanted:  # a new search starts on its first page
        state["users_wanted"], state["users_page"] = wanted, 0
    page_no = state.get("users_page", 0)
    found = search_users(principal, text=wanted[0], roles=wanted[1], page=page_no, page_size=PAGE_SIZE)
    if not found.rows and page_no > 0:  # accounts went away under a later page: back to the first
        state["users_page"] = page_no = 0
        found = search_users(principal, text=wanted[0], roles=wanted[1], page=0, page_size=PAGE_SIZE)
    shown = found.rows
    if not shown:
        st.info(t("admin.no_users_match"))
    else:
        st.dataframe(
            {
                t("admin.username"): [u.username for u in shown],
                t("admin.display_name"): [u.display_name for u in shown],
                t("admin.role"): [t(f"role.{u.role}") for u in shown],
                t("admin.scope"): [_scope_text(u, found.centres, found.organizations) for u in shown],
                t("admin.email"): [u.email or "" for u in shown],
                t("admin.active"): [u.is_active for u in shown],
                t("admin.locked"): [u.locked for u in shown],
            },
            hide_index=True,
            width="stretch",
        )
    st.caption(t("admin.count", shown=found.total, total=found.all_users))
    if found.total > PAGE_SIZE:
        back, forward = st.columns(2)
        if back.button(
            t("audit.previous"), key="users_prev", disabled=page_no == 0, icon=":material/chevron_left:"
        ):
            state["users_page"] = page_no - 1
            st.rerun()
        last = (found.total - 1) // PAGE_SIZE
        if forward.button(
            t("audit.next"), key="users_next", disabled=page_no >= last, icon=":material/chevron_right:"
        ):
            state["users_page"] = page_no + 1
            st.rerun()


def _create_form() -> None:
    options = scope_options(principal)
    with st.form("create_user", enter_to_submit=False):
        left, right = st.columns(2)
        username = left.text_input(FIELD_LABELS["username"], max_chars=80, help=t("admin.username_help"))
        display_name = right.text_input(FIELD_LABELS["display_name"], max_chars=200)
        email = left.text_input(FIELD_LABELS["email"], max_chars=200, help=t("admin.email_help"))
        role = right.selectbox(FIELD_LABELS["role"], ROLES, format_func=lambda r: t(f"role.{r}"), index=2)
        language = left.selectbox(FIELD_LABELS["language"], LANGUAGES, format_func=LANGUAGE_NAMES.get)
        password = right.text_input(
            FIELD_LABELS["password"],
            type="password",
            help=t("admin.password_help"),
            autocomplete="new-password",
        )
        centre_ids = st.multiselect(
            FIELD_LABELS["centre_ids"],
            list(options.centres),
            format_func=options.centres.get,
            help=t("admin.centres_help"),
            placeholder=t("widget.choose_many"),
        )
        organization_ids = st.multiselect(
            FIELD_LABELS["organization_ids"],
            list(options.organizations),
            format_func=options.organizations.get,
            help=t("admin.organizations_help"),
            placeholder=t("widget.choose_many"),
        )
        submitted = st.form_submit_button(t("admin.create"), type="primary")
    if submitted:
        try:
            create_user(
                principal,
                username=username,
                display_name=display_name,
                email=email,
                role=role,
                language=language,
                password=password or None,
                centre_ids=centre_ids,
                organization_ids=organization_ids,
            )
        except ServiceError as error:
            show_service_error(error, FIELD_LABELS)
        else:
            st.success(t("admin.created", username=username.strip().lower()))


def _edit_form() -> None:
    wanted = st.text_input(t("admin.search"), key="edit_user_query", placeholder=t("admin.search_hint"))
    choices = search_users(principal, text=wanted, page_size=CHOICES).rows
    by_id = {u.id: u for u in choices}
    current = st.session_state.get("edit_user_id")
    if isinstance(current, int) and current not in by_id:  # keep the account being edited on offer
        with contextlib.suppress(ServiceError):
            by_id[current] = get_user(principal, current)
    if not by_id:
        st.info(t("admin.no_users_match"))
        return
    chosen = st.selectbox(
        t("admin.choose_user"),
        list(by_id),
        format_func=lambda uid: f"{by_id[uid].username} · {by_id[uid].display_name}",
        key="edit_user_id",
    )
    user = by_id[chosen]
    options = scope_options(principal)
    state = t("admin.state_active") if user.is_active else t("admin.state_disabled")
    if user.locked:
        state += " · " + t("admin.state_locked")
    st.caption(t("admin.state", state=state))

    with st.form(f"edit_user_{user.id}", enter_to_submit=False):
        left, right = st.columns(2)
        new_name = left.text_input(FIELD_LABELS["display_name"], value=user.display_name, max_chars=200)
        new_email = right.text_input(FIELD_LABELS["email"], value=user.email or "", max_chars=200)
        new_role = left.selectbox(
            FIELD_LABELS["role"], ROLES, index=ROLES.index(user.role), format_func=lambda r: t(f"role.{r}")
        )
        new_centres = st.multiselect(
            FIELD_LABELS["centre_ids"],
            list(options.centres),
            default=list(user.centre_ids),
            format_func=options.centres.get,
            help=t("admin.centres_help"),
            placeholder=t("widget.choose_many"),
        )
        new_orgs = st.multiselect(
            FIELD_LABELS["organization_ids"],
            list(options.organizations),
            default=list(user.organization_ids),
            format_func=options.organizations.get,
            help=t("admin.organizations_help"),
            placeholder=t("widget.choose_many"),
        )
        saved = st.form_submit_button(t("admin.save"), type="primary")
    if saved:
        try:
            update_user(
                principal,
                user.id,
                role=new_role,
                display_name=new_name,
                email=new_email,
                centre_ids=new_centres,
                organization_ids=new_orgs,
            )
        except ServiceError as error:
            show_service_error(error, FIELD_LABELS)
        else:
            st.success(t("admin.saved", username=md_inline(user.username)))

    def _set_active(payload) -> str:
        user_id, username, active = payload
        set_active(principal, user_id, active)
        return t("admin.enabled" if active else "admin.disabled", username=username)

    confirm_dialog(
        "user_active",
        title=t("admin.confirm_title"),
        body=lambda p: t("admin.confirm_enable" if p[2] else "admin.confirm_disable", username=p[1]),
        on_yes=_set_active,
    )
    notice = pop_notice("user_active")
    if notice:
        st.success(notice)
    if user.is_active:
        if st.button(t("admin.disable"), icon=":material/block:", key="disable_user"):
            ask("user_active", (user.id, user.username, False))
            st.rerun()
    elif st.button(t("admin.enable"), icon=":material/check_circle:", key="enable_user"):
        ask("user_active", (user.id, user.username, True))
        st.rerun()

    with st.expander(t("admin.reset_password")):
        with st.form(f"reset_{user.id}", clear_on_submit=False, enter_to_submit=False):
            new_password = st.text_input(
                FIELD_LABELS["password"],
                type="password",
                autocomplete="new-password",
                help=t("admin.reset_help"),
            )
            reset = st.form_submit_button(t("admin.reset"))
        if reset:
            try:
                reset_password(principal, user.id, new_password)
            except ServiceError as error:
                show_service_error(error, {"password": FIELD_LABELS["password"]})
            else:
                st.success(t("admin.reset_done", username=md_inline(user.username)))


# Only the open tab runs (st.tabs with on_change="rerun" tracks which one is open).
if list_tab.open:
    with list_tab:
        _user_list()
if create_tab.open:
    with create_tab:
        _create_form()
if edit_tab.open:
    with edit_tab:
        _edit_form()
