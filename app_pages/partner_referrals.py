"""Referrals to the partner's own activities (the closed loop): only what the patient agreed to share,
and one click to accept, start or mark attended; declining or "did not attend" asks for a reason."""

from __future__ import annotations

import streamlit as st

from components.confirm import pop_notice, push_notice
from components.directory_filters import escape_md
from components.i18n import show_service_error, t, tn
from components.referral_labels import reason_label, status_badge
from components.session import guard
from services.errors import ServiceError
from services.referrals import PARTNER_ACTIONS, PARTNER_FILTERS, partner_referrals, partner_respond
from settings import get_settings

principal = guard("partner_referrals")
LATE_DAYS = get_settings().unanswered_days
NOTICES = {
    "accept": "partner_referrals.done_accept",
    "decline": "partner_referrals.done_decline",
    "started": "partner_referrals.done_started",
    "attended": "partner_referrals.done_attended",
    "not_attended": "partner_referrals.done_not_attended",
}


st.title(t("page.partner_referrals"))
st.caption(t("partner_referrals.intro"))
notice_slot = st.empty()  # always there, so the rows below keep their place when the notice goes
notice = pop_notice("partner_referrals")
if notice:
    notice_slot.success(notice)

which = st.radio(
    t("partner_referrals.filter"),
    PARTNER_FILTERS,
    format_func=lambda f: t(f"partner_referrals.filter_{f}"),
    horizontal=True,
    key="pref_filter",
)
rows = partner_referrals(principal, status=which)
if which == "waiting":
    rows.sort(key=lambda r: (r.created_on, r.id))  # the longest-waiting first
if not rows:
    st.info(t(f"partner_referrals.empty_{which}"))
    st.stop()
st.caption(tn("partner_referrals.count", len(rows)))


def respond(row, action: str, reason: str | None = None, note: str | None = None) -> bool:
    try:
        partner_respond(principal, row.id, action, reason=reason, note=note)
    except ServiceError as error:
        show_service_error(
            error,
            {
                "reason": t("partner_referrals.reason"),
                "note": t("partner_referrals.note"),
                "action": t("partner_referrals.action"),
            },
        )
        return False
    who = row.first_name or row.reference
    push_notice("partner_referrals", t(NOTICES[action], who=who, activity=row.service_name))
    return True


def reason_form(row, action: str) -> None:
    """Decline or "did not attend": the reason in the same small form as the button."""
    reasons = PARTNER_ACTIONS[action][1] or ()
    with st.expander(t(f"partner_referrals.{action}"), icon=":material/close:", key=f"exp_{action}_{row.id}"):
        with st.form(f"{action}_{row.id}", border=False, enter_to_submit=False):
            reason = st.selectbox(
                t("partner_referrals.reason"),
                reasons,
                format_func=reason_label,
                index=None,
                placeholder=t("partner_referrals.choose_reason"),
                key=f"{action}_reason_{row.id}",
            )
            note = st.text_input(t("partner_referrals.note"), max_chars=2000, key=f"{action}_note_{row.id}")
            sent = st.form_submit_button(t(f"partner_referrals.{action}_submit"))
        if sent and respond(row, action, reason=reason, note=note or None):
            st.rerun()


for row in rows:
    with st.container(border=True):
        who, actions = st.columns([3, 2])
        if row.first_name:
            person = f"**{escape_md(row.first_name)}**"
            if row.phone:
                person += f" · :material/call: {escape_md(row.phone)}"
        else:
            person = f"**{t('partner_referrals.reference', ref=row.reference)}**"
        badge = status_badge(row.status, row.outcome_reason)
        who.markdown(f"{person}  \n{escape_md(row.service_name)}  \n{badge}")
        if row.status == "requested":
            waited = tn("partner_referrals.waiting_days", row.days_waiting)
            if row.days_waiting > LATE_DAYS:
                waited = f":orange[:material/schedule: {waited}]"
        else:
            waited = tn("partner_referrals.days_since", row.days_waiting)
        who.caption(
            t("partner_referrals.referred_on", date=f"{row.created_on:%Y-%m-%d}")
            + f" · {waited} · "
            + (row.reference if row.first_name else t("partner_referrals.no_contact_shared"))
        )
        with actions:
            for action in row.actions:
                if action in ("decline", "not_attended"):
                    reason_form(row, action)
                    continue
                clicked = st.button(
                    t(f"partner_referrals.{action}"),
                    key=f"{action}_{row.id}",
                    type="primary" if action in ("accept", "attended") else "secondary",
                    width="stretch",
                )
                if clicked and respond(row, action):
                    st.rerun()
