"""One instrument as a form, in the user's language, that survives switching pages.

Plain keyed widgets rather than `st.form`, so a PHQ-9 item 9 answer above 0 shows the safety
routine at once, before saving. Streamlit drops the state of widgets not rendered on a run (as
when the user opens another page), so every answer is also copied into a plain session-state
entry (`key`) and restored as the widget's value when the form is shown again.

Saving needs every item answered (the service refuses otherwise, naming each unanswered item); a
form that cannot be completed is saved only through "save incomplete" with a reason.
"""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st

from components.i18n import current_language, t
from domain.instrument_defs import WORKING, InstrumentDef, Item, definition
from domain.instruments import INCOMPLETE_REASONS, InstrumentError, score
from settings import get_settings

_HORIZONTAL_CHARS = 110  # answer labels up to this many characters in all fit on one line


class Submission(NamedTuple):
    """What a pressed save button hands the page: the answers (item id -> value or None) and,
    for "save incomplete", the chosen reason ("" when none was chosen: the service refuses it)."""

    answers: dict
    incomplete_reason: str | None = None


def item_labels(code: str) -> dict[str, str]:
    """Item id -> "number. question" in the user's language, to name items in messages."""
    lang = current_language()
    return {i.link_id: f"{n}. {i.text[lang]}" for n, i in enumerate(definition(code).items, start=1)}


def incomplete_reason_label(reason: str | None) -> str:
    return t(f"connector.incomplete_reason_{reason}") if reason in INCOMPLETE_REASONS else "–"


def _widget_key(key: str, item_id: str) -> str:
    return f"{key}__item__{item_id}"


def _store(key: str) -> dict:
    store = st.session_state.get(key)
    if not isinstance(store, dict):
        store = st.session_state[key] = {}
    return store


def current_answers(key: str) -> dict:
    """What has been answered so far in the form kept under `key` (item id -> value)."""
    return {k: v for k, v in dict(st.session_state.get(key) or {}).items() if v is not None}


def clear_instrument_form(key: str, code: str) -> None:
    """Empty the form (after a successful save)."""
    st.session_state[key] = {}
    for item in definition(code).items:
        st.session_state.pop(_widget_key(key, item.link_id), None)
    st.session_state.pop(f"{key}__reason", None)


def safety_routine_text() -> str:
    return get_settings().safety_routine or t("instruments.safety_routine_default")


def show_safety_block() -> None:
    st.error(
        f"**{t('instruments.safety_title')}**\n\n{safety_routine_text()}",
        icon=":material/emergency:",
    )


def _restore(key: str, item: Item) -> str:
    """Seed the widget from the kept answer when Streamlit has dropped the widget's own state."""
    widget = _widget_key(key, item.link_id)
    if widget not in st.session_state:
        kept = _store(key).get(item.link_id)
        st.session_state[widget] = kept if kept in item.values() else None
    return widget


def _keep(key: str, item_id: str) -> None:
    _store(key)[item_id] = st.session_state.get(_widget_key(key, item_id))


def _item_widget(key: str, d: InstrumentDef, number: int, item: Item, lang: str) -> None:
    widget = _restore(key, item)
    label = f"{number}. {item.text[lang]}"
    if item.type == "integer":
        st.number_input(
            label,
            min_value=item.minimum,
            max_value=item.maximum,
            step=1,
            value=None,
            key=widget,
            on_change=_keep,
            args=(key, item.link_id),
            placeholder=f"{item.minimum}–{item.maximum}",
        )
        return
    labels = [item.label(v, lang) for v in item.values()]
    st.radio(
        label,
        item.values(),
        index=None,
        format_func=lambda v: item.label(v, lang),
        horizontal=sum(len(x) + 3 for x in labels) <= _HORIZONTAL_CHARS or len(labels) > 6,
        key=widget,
        on_change=_keep,
        args=(key, item.link_id),
    )


def instrument_form(code: str, *, key: str) -> Submission | None:
    """Render instrument `code`; return a Submission when a save button is pressed, else None.
    What is answered stays in `st.session_state[key]`."""
    d = definition(code)
    lang = current_language()
    store = _store(key)
    if d.intro.get(lang):
        st.markdown(d.intro[lang])
    if d.translation.get(lang) == WORKING:
        st.caption(f":material/translate: {t('instruments.working_translation')}")
    if d.note:
        st.caption(d.note[lang])
    for number, item in enumerate(d.items, start=1):
        _item_widget(key, d, number, item, lang)
        # Keep the latest value also when no change event fired (e.g. a value seeded by the page).
        store[item.link_id] = st.session_state.get(_widget_key(key, item.link_id))
        if code == "phq9" and item.link_id == "q9":
            try:
                flags = score(code, current_answers(key)).flags
            except InstrumentError:
                flags = frozenset()
            if flags:
                show_safety_block()
    if d.notice:
        st.caption(d.notice[lang])
    answered = sum(1 for v in store.values() if v is not None)
    pressed = st.button(
        t("instruments.save", name=d.short_name),
        key=f"{key}__save",
        type="primary",
        icon=":material/save:",
        help=t("instruments.answered", n=answered, total=len(d.items)),
    )
    answers = {item.link_id: store.get(item.link_id) for item in d.items}
    submission = Submission(answers) if pressed else None
    if 0 < answered < len(d.items):
        with st.expander(t("connector.incomplete_heading"), icon=":material/rule:"):
            st.caption(t("connector.incomplete_help"))
            reason = st.selectbox(
                t("connector.incomplete_reason"),
                INCOMPLETE_REASONS,
                index=None,
                format_func=incomplete_reason_label,
                placeholder=t("connector.incomplete_choose"),
                key=f"{key}__reason",
            )
            if st.button(
                t("connector.incomplete_save", name=d.short_name),
                key=f"{key}__save_incomplete",
                icon=":material/save_as:",
            ):
                submission = Submission(answers, reason or "")
    return submission


def band_label(code: str, band: str | None) -> str:
    """A stored band in the user's language (the ONS answer's own label; EQ-5D's profile as is)."""
    if band is None:
        return "–"
    if code == "ons_loneliness":
        return definition(code).items[0].label(band, current_language())
    if code == "eq5d5l":
        return band
    return t(f"instruments.band_{code}_{band}")


def _number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if digits else str(int(value))


def instrument_result(result) -> None:
    """The scores of one saved response (a `services.screening.ResponseView`), shown at once."""
    code = result.instrument
    d = definition(code)
    if code == "ucla3":
        left, right = st.columns(2)
        left.metric(t("instruments.total_of", n=9), _number(result.total))
        right.metric(t("instruments.result"), band_label(code, result.band))
        st.caption(t("instruments.ucla3_threshold_note", threshold=get_settings().ucla3_threshold))
    elif code == "swemwbs":
        left, right = st.columns(2)
        left.metric(t("instruments.swemwbs_raw"), _number(result.total))
        right.metric(t("instruments.swemwbs_metric"), _number(result.score, 2))
        st.caption(t("instruments.swemwbs_note"))
    elif code == "djg6":
        cols = st.columns(4)
        cols[0].metric(t("instruments.total_of", n=6), _number(result.total))
        cols[1].metric(t("instruments.result"), band_label(code, result.band))
        cols[2].metric(t("instruments.djg6_emotional"), _number(result.subscales.get("emotional")))
        cols[3].metric(t("instruments.djg6_social"), _number(result.subscales.get("social")))
    elif code == "ons4":
        cols = st.columns(4)
        for col, item in zip(cols, d.items, strict=True):
            band = result.bands.get(item.link_id)
            col.metric(
                t(f"instruments.ons4_{item.link_id}"),
                _number(result.subscales.get(item.link_id)),
                t(f"instruments.band_ons4_{band}") if band else None,
                delta_color="off",
                delta_arrow="off",
            )
    elif code in ("phq9", "gad7"):
        left, right = st.columns(2)
        left.metric(t("instruments.total_of", n=27 if code == "phq9" else 21), _number(result.total))
        right.metric(t("instruments.result"), band_label(code, result.band))
    elif code == "ons_loneliness":
        st.metric(t("instruments.result"), band_label(code, result.band))
    elif code == "eq5d5l":
        left, right = st.columns(2)
        left.metric(t("instruments.eq5d5l_profile"), band_label(code, result.band))
        right.metric(t("instruments.eq5d5l_vas"), _number(result.subscales.get("vas")))
        st.caption(t("instruments.eq5d5l_no_index"))
    if result.incomplete_reason:
        st.warning(
            t("connector.incomplete_saved_as", reason=incomplete_reason_label(result.incomplete_reason)),
            icon=":material/rule:",
        )
    if result.missing:
        labels = item_labels(code)
        named = "; ".join(labels[i] for i in result.missing if i in labels)
        st.caption(t("instruments.missing", items=named))
    if "self_harm" in result.flags:
        show_safety_block()
