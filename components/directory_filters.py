"""The directory's filter widgets, kept in sync with the URL so that a search can be shared.

The URL wins when it changes from outside (a shared link, the back link from an activity);
otherwise the widgets are the truth and the URL follows them.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from components.i18n import fmt_number, t
from domain.markdown_safety import md
from services.directory import (
    ATTENDING,
    QUERY_PARAM_KEYS,
    SORTS,
    STARTS,
    TIMES_OF_DAY,
    WEEKDAYS,
    DirectoryFilter,
    FacetOptions,
)
from services.principal import Principal

DISTANCES = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0)
PAGE_KEYS = ("view", "p")  # the directory page's own URL state, beside the filter
_LAST = "dir_last_params"
_NEAR = "dir_near"


def _km(km: float) -> str:
    return f"{fmt_number(km, 0 if float(km).is_integer() else 1)} km"


def escape_md(text: object) -> str:
    """User text shown as Markdown must not turn into formatting, links, HTML or formulas
    (domain.markdown_safety.md: every ASCII punctuation character escaped)."""
    return md(text)


def current_params() -> dict[str, str]:
    """The URL's filter and page parameters (repeated keys joined with commas)."""
    out = {}
    for key in (*QUERY_PARAM_KEYS, *PAGE_KEYS):
        values = st.query_params.get_all(key)
        if values:
            out[key] = ",".join(values)
    return out


def filter_params() -> dict[str, str]:
    """Only the filter part of the URL: what the back link from an activity carries."""
    return {k: v for k, v in current_params().items() if k in QUERY_PARAM_KEYS}


def _seed(flt: DirectoryFilter, params: dict[str, str]) -> None:
    state = st.session_state
    state["dir_q"] = flt.text
    state["dir_cat"] = list(flt.categories)
    state["dir_tg"] = list(flt.target_groups)
    state["dir_day"] = list(flt.weekdays)
    state["dir_tod"] = list(flt.times_of_day)
    state["dir_att"] = list(flt.attending)
    state["dir_acc"] = list(flt.accessibility)
    state["dir_langs"] = list(flt.languages)
    state["dir_muni"] = list(flt.municipality_ids)
    state["dir_free"] = flt.free_only
    state["dir_places"] = flt.has_free_places
    state["dir_start"] = flt.start
    state["dir_centre"] = flt.centre_id
    state["dir_km"] = flt.max_km
    state["dir_sort"] = flt.sort
    state[_NEAR] = flt.near
    state["dir_page"] = _page_number(params.get("p", ""))


def _page_number(raw: str) -> int:
    if raw.isascii() and raw.isdigit() and len(raw) <= 6 and int(raw) > 0:
        return int(raw) - 1
    return 0


def sync_from_url(options: FacetOptions, principal: Principal | None) -> None:
    """Before the widgets: take the URL's filter when it changed from outside, or on first load."""
    params = current_params()
    # Widget state is dropped when the user leaves the page, so coming back always reseeds.
    if params == st.session_state.get(_LAST) and "dir_q" in st.session_state:
        return
    flt = options.restrict(DirectoryFilter.from_query_params(params))
    first_visit = _LAST not in st.session_state
    if first_visit and not params and principal is not None and principal.centre_ids:
        own = sorted(c for c in principal.centre_ids if c in options.centres)
        if own:  # a connector starts near their own health centre
            flt = replace(flt, centre_id=own[0], sort="distance")
    _seed(flt, params)
    st.session_state[_LAST] = params


def write_url(flt: DirectoryFilter, view: str, page: int) -> None:
    """After the widgets: the URL shows exactly this search."""
    params = flt.to_query_params()
    if view != "list":
        params["view"] = view
    if page > 0:
        params["p"] = str(page + 1)
    if params != current_params():
        st.query_params.from_dict(params)
    st.session_state[_LAST] = params


def _pills(label: str, options, key: str, fmt) -> list:
    return st.pills(label, options, selection_mode="multi", format_func=fmt, key=key, wrap=True) or []


def render(options: FacetOptions, weekday_names: dict[str, str]) -> DirectoryFilter:
    """All filter widgets; returns the filter they describe."""
    terms = options.terms
    top = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
    text = top[0].text_input(
        t("directory.search"), key="dir_q", placeholder=t("directory.search_hint"), max_chars=200
    )
    centre_ids = list(options.centres)
    if st.session_state.get("dir_centre") not in (None, *centre_ids):
        st.session_state["dir_centre"] = None
    centre = top[1].selectbox(
        t("directory.centre"),
        centre_ids,
        index=None,
        format_func=lambda cid: options.centres[cid].name,
        key="dir_centre",
        placeholder=t("directory.centre_none"),
        help=t("directory.centre_help"),
    )
    distances = [
        None,
        *sorted({*DISTANCES, *([st.session_state["dir_km"]] if st.session_state.get("dir_km") else [])}),
    ]
    max_km = top[2].select_slider(
        t("directory.max_km"),
        distances,
        key="dir_km",
        format_func=lambda km: t("directory.any_distance") if km is None else _km(km),
        disabled=centre is None and st.session_state.get(_NEAR) is None,
    )
    sort = top[3].selectbox(
        t("directory.sort"), SORTS, key="dir_sort", format_func=lambda s: t(f"directory.sort_{s}")
    )

    row = st.columns([3, 2, 2])
    with row[0]:
        weekdays = _pills(t("directory.weekdays"), WEEKDAYS, "dir_day", weekday_names.get)
    with row[1]:
        times = _pills(
            t("directory.times_of_day"), TIMES_OF_DAY, "dir_tod", lambda x: t(f"directory.tod_{x}")
        )
    with row[2]:
        attending = _pills(t("directory.attending"), ATTENDING, "dir_att", lambda x: t(f"directory.att_{x}"))
    row = st.columns([3, 2, 2], vertical_alignment="bottom")
    categories = row[0].multiselect(
        t("directory.categories"),
        list(terms["category"]),
        key="dir_cat",
        format_func=terms["category"].get,
        placeholder=t("directory.any"),
    )
    with row[1]:
        free_only = st.toggle(t("directory.free_only"), key="dir_free")
        places = st.toggle(t("directory.has_free_places"), key="dir_places")
    with row[2]:
        accessibility = _pills(
            t("directory.accessibility"), list(terms["accessibility"]), "dir_acc", terms["accessibility"].get
        )
    with st.expander(t("directory.more_filters"), icon=":material/tune:"):
        more = st.columns(2)
        target_groups = more[0].multiselect(
            t("directory.target_groups"),
            list(terms["target_group"]),
            key="dir_tg",
            format_func=terms["target_group"].get,
            placeholder=t("directory.any"),
        )
        languages = more[1].multiselect(
            t("directory.languages"),
            list(terms["language"]),
            key="dir_langs",
            format_func=terms["language"].get,
            placeholder=t("directory.any"),
        )
        municipalities = more[0].multiselect(
            t("directory.municipalities"),
            list(options.municipalities),
            key="dir_muni",
            format_func=options.municipalities.get,
            placeholder=t("directory.any"),
        )
        start = more[1].segmented_control(
            t("directory.start"), STARTS, key="dir_start", format_func=lambda s: t(f"directory.start_{s}")
        )
    near = st.session_state.get(_NEAR)
    if near is not None and centre is None:
        cols = st.columns([4, 1])
        cols[0].caption(t("directory.near_point", lat=f"{near[0]:.4f}", lon=f"{near[1]:.4f}"))
        if cols[1].button(t("directory.clear_point"), key="dir_clear_near"):
            st.session_state[_NEAR] = near = None
    return DirectoryFilter(
        text=text or "",
        categories=tuple(categories),
        target_groups=tuple(target_groups),
        weekdays=tuple(weekdays),
        times_of_day=tuple(times),
        attending=tuple(attending),
        free_only=bool(free_only),
        accessibility=tuple(accessibility or ()),
        languages=tuple(languages),
        municipality_ids=tuple(municipalities),
        has_free_places=bool(places),
        start=start,
        centre_id=centre,
        near=near if centre is None else None,
        max_km=max_km if (centre is not None or near is not None) else None,
        sort=sort if sort in SORTS else "name",
    )


def reset() -> None:
    """Clear every filter (the empty state's button)."""
    _seed(DirectoryFilter(centre_id=st.session_state.get("dir_centre")), {})
