"""The follow-up a referral starts or joins, shown and chosen in the referral step: the programme
(default: the patient's active one, else social prescribing), or none; and what it did. After the
referral, the follow-up page changes the programme (`programme_change`)."""

from __future__ import annotations

import streamlit as st

from components.i18n import current_language, show_service_error, t
from domain.instrument_defs import DEFINITIONS
from domain.markdown_safety import md_inline
from services.errors import ServiceError
from services.followup import BASELINE_WINDOW_DAYS, FollowUpPlan, change_programme, programmes

NONE = "__none__"


def _timepoint(months: int | None) -> str:
    return t("followup.baseline") if not months else t("followup.months", n=months)


def follow_up_choice(plan: FollowUpPlan, *, key: str) -> str | None:
    """Render the choice; return the programme code to pass to `create_referral` (None: none)."""
    lang = current_language()
    names = {p.code: p.name(lang) for p in plan.programmes}
    options = [*names, NONE]
    if key not in st.session_state:
        st.session_state[key] = plan.default or NONE
    with st.container(border=True):
        st.markdown(f"**{t('referral_followup.heading')}**")
        chosen = st.selectbox(
            t("referral_followup.choose"),
            options,
            format_func=lambda c: names.get(c, t("referral_followup.none")),
            key=key,
        )
        if chosen == NONE:
            st.caption(t("referral_followup.off"))
            return None
        active = plan.enrolment_in(chosen)
        if active is not None:
            st.caption(
                t("referral_followup.joins", programme=names[chosen], day=active.enrolled_on.isoformat())
            )
        elif plan.baseline is not None:
            instruments = ", ".join(DEFINITIONS[c].short_name for c in plan.baseline.instruments)
            st.caption(
                t(
                    "referral_followup.baseline",
                    programme=names[chosen],
                    day=plan.baseline.on.isoformat(),
                    instruments=instruments,
                )
            )
        else:
            st.caption(t("referral_followup.no_baseline", programme=names[chosen], n=BASELINE_WINDOW_DAYS))
    return chosen


def follow_up_done(follow_up) -> str:
    """What a new referral did to follow-up (a `services.referrals.ReferralFollowUp`), in words."""
    if follow_up is None:
        return t("referral_followup.off")
    name = follow_up.name(current_language())
    if follow_up.started is None:
        text = t("referral_followup.line", programme=name, day=follow_up.enrolled_on.isoformat())
    else:
        text = t(
            "referral_followup.started" if follow_up.started else "referral_followup.joined", programme=name
        )
    if follow_up.next_due is not None:
        text += " " + t(
            "referral_followup.next",
            timepoint=_timepoint(follow_up.next_timepoint),
            day=follow_up.next_due.isoformat(),
        )
    return text


def programme_change(principal, detail) -> None:
    """On a follow-up page: change the patient's programme after the referral (issue 12). On
    success the page moves to the new programme's baseline follow-up with a notice."""
    lang = current_language()
    names = {p.code: p.name(lang) for p in programmes(principal)}
    if len(names) < 2:
        return
    with st.expander(t("followup.programme_heading") + ": " + names.get(detail.programme_code, "")):
        st.caption(t("followup.programme_help"))
        options = list(names)
        # A form: choosing reruns nothing (a rerun closed this section in the browser before the
        # button could be pressed); the change happens on the button only.
        with st.form(f"fu{detail.id}_programme_form", border=False):
            chosen = st.selectbox(
                t("followup.programme_choose"),
                options,
                index=options.index(detail.programme_code) if detail.programme_code in options else 0,
                format_func=names.get,
                key=f"fu{detail.id}_programme",
            )
            clicked = st.form_submit_button(
                t("followup.programme_change"), key=f"fu{detail.id}_change_programme"
            )
        if not clicked:
            return
        try:
            moved = change_programme(principal, detail.enrolment_id, chosen)
        except ServiceError as error:
            show_service_error(error, {"programme_code": t("followup.programme_choose")})
            return
    same = next((f for f in moved.follow_ups if f.timepoint_months == detail.timepoint_months), None)
    target = same or moved.follow_ups[0]
    st.session_state["follow_up_notice"] = t("followup.programme_changed", programme=md_inline(names[chosen]))
    st.query_params["id"] = str(target.id)
    st.rerun()
