"""Public form (no login): propose a new activity, or a correction to one (?id=N). Everything goes
to a moderation queue; nothing is public until a manager approves it."""

import streamlit as st

from components.client import client_id
from components.directory_filters import escape_md
from components.i18n import current_language, show_service_error, t
from components.query import query_id
from components.session import guard
from services.directory import activity_detail, facet_options
from services.directory_edit import submit_suggestion
from services.errors import ServiceError

guard("suggest", public=True)
lang = current_language()

LABELS = {
    "name": t("suggest.name"),
    "organization": t("suggest.organization"),
    "category": t("suggest.category"),
    "description": t("suggest.description"),
    "when": t("suggest.when"),
    "where": t("suggest.where"),
    "url": t("suggest.url"),
    "contact_name": t("edit.contact_name"),
    "contact_phone": t("suggest.contact_phone_long"),
    "contact_email": t("suggest.contact_email_long"),
    "message": t("suggest.message"),
    "submitter_name": t("suggest.submitter_name"),
    "submitter_email": t("suggest.submitter_email"),
    "service_id": t("suggest.activity"),
}


service_id = query_id("id")
activity = None
if service_id is not None:
    try:
        activity = activity_detail(service_id, lang)
    except ServiceError:
        activity = None

st.title(t("page.suggest"))
if st.session_state.pop("suggest_sent", False):
    st.success(t("suggest.thanks"))
    st.page_link("app_pages/directory.py", label=t("activity.back"), icon=":material/arrow_back:")
    st.stop()

if activity is not None:
    kind = "correction"
    st.caption(t("suggest.intro_correction"))
    st.markdown(
        f"**{t('suggest.activity')}:** {escape_md(activity.name)} · {escape_md(activity.organization)}"
    )
else:
    kind = "new"
    st.caption(t("suggest.intro_new"))

categories = facet_options(lang).terms.get("category", {})
with st.form(f"suggest_{kind}", enter_to_submit=False):
    if kind == "new":
        st.text_input(LABELS["name"], key="sg_name", max_chars=300)
        st.text_input(LABELS["organization"], key="sg_organization", max_chars=300)
        st.selectbox(
            LABELS["category"],
            list(categories),
            format_func=categories.get,
            index=None,
            key="sg_category",
            placeholder=t("widget.choose_one"),
        )
        st.text_area(LABELS["description"], key="sg_description", max_chars=5000)
        left, right = st.columns(2)
        left.text_input(LABELS["when"], key="sg_when", max_chars=300, placeholder=t("suggest.when_hint"))
        right.text_input(LABELS["where"], key="sg_where", max_chars=300, placeholder=t("suggest.where_hint"))
        st.text_input(LABELS["url"], key="sg_url", max_chars=500, placeholder="https://")
        st.markdown(f"**{t('suggest.contact_heading')}**")
        left, mid, right = st.columns(3)
        left.text_input(LABELS["contact_name"], key="sg_contact_name", max_chars=200)
        mid.text_input(LABELS["contact_phone"], key="sg_contact_phone", max_chars=40)
        right.text_input(LABELS["contact_email"], key="sg_contact_email", max_chars=200)
        st.text_area(LABELS["message"], key="sg_message", max_chars=2000, help=t("suggest.message_help_new"))
    else:
        st.text_area(
            LABELS["message"], key="sg_message", max_chars=2000, help=t("suggest.message_help_correction")
        )
    st.markdown(f"**{t('suggest.about_you')}**")
    left, right = st.columns(2)
    left.text_input(LABELS["submitter_name"], key="sg_submitter_name", max_chars=200)
    right.text_input(LABELS["submitter_email"], key="sg_submitter_email", max_chars=200)
    # A honeypot for bots: hidden from people by CSS and marked so screen readers skip it.
    st.text_input("Homepage", key="sg_homepage", label_visibility="collapsed", placeholder="leave empty")
    st.caption(t("suggest.privacy"))
    sent = st.form_submit_button(t("suggest.send"), type="primary", icon=":material/send:")
st.html("<style>div.st-key-sg_homepage{position:absolute;left:-10000px;height:1px;overflow:hidden}</style>")

if sent:
    values = {name: st.session_state.get(f"sg_{name}") for name in LABELS}
    values.update(kind=kind, service_id=service_id, homepage=st.session_state.get("sg_homepage"))
    try:
        submit_suggestion(values, client_id=client_id())
    except ServiceError as error:
        show_service_error(error, LABELS)
    else:
        for name in list(st.session_state):
            if str(name).startswith("sg_"):
                del st.session_state[name]
        st.session_state["suggest_sent"] = True
        st.rerun()
