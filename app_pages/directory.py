"""The activity directory: search and filter, then see what matches as a list, a map or a week."""

from datetime import date, timedelta

import streamlit as st

from components import directory_filters as filters
from components import maps
from components.directory_filters import escape_md
from components.i18n import current_language, fmt_date, fmt_number, t, tn
from components.session import guard
from domain.markdown_safety import md_inline
from domain.schedules import weekday_names
from services.directory import facet_options, map_points, search, timetable
from settings import get_settings

principal = guard("directory", public=True)
lang = current_language()
db_url = get_settings().db_url
PAGE_SIZE = 25
VIEWS = ("list", "map", "timetable")
ACTIVITY_PAGE = "app_pages/activity.py"


@st.cache_data(ttl=120, show_spinner=False)
def _options(_url: str, lang: str):
    return facet_options(lang)


@st.cache_data(ttl=60, show_spinner=False)
def _map(_url: str, flt, lang: str):
    return map_points(flt, lang=lang)


def _open(activity_id: int, flt) -> None:
    st.switch_page(ACTIVITY_PAGE, query_params={"id": str(activity_id), **flt.to_query_params()})


options = _options(db_url, lang)
days = {code: name.capitalize() for code, name in weekday_names(lang).items()}
st.title(t("page.directory"))
if principal is None:
    st.caption(t("directory.public_intro"))
st.page_link("app_pages/suggest.py", label=t("directory.suggest_link"), icon=":material/add_comment:")
filters.sync_from_url(options, principal)
flt = filters.render(options, days)

if st.session_state.get("dir_last_filter") != flt:
    st.session_state["dir_page"] = (
        0 if "dir_last_filter" in st.session_state else st.session_state["dir_page"]
    )
    st.session_state["dir_last_filter"] = flt
page = st.session_state.get("dir_page", 0)
rows, total = search(flt, page=page, page_size=PAGE_SIZE, lang=lang)
if page and not rows and total:
    page = st.session_state["dir_page"] = 0
    rows, total = search(flt, page=0, page_size=PAGE_SIZE, lang=lang)

st.subheader(tn("directory.count", total))
if total == 0:
    st.info(t("directory.empty_filtered" if not flt.is_empty() else "directory.empty_directory"))
    st.button(t("directory.clear_filters"), icon=":material/filter_alt_off:", on_click=filters.reset)

labels = {v: t(f"directory.view_{v}") for v in VIEWS}
requested = st.query_params.get("view", "list")
tabs = st.tabs(
    list(labels.values()),
    key="dir_view",
    on_change="rerun",
    default=labels[requested if requested in VIEWS else "list"],
)
view = next((v for v, tab in zip(VIEWS, tabs, strict=True) if tab.open), "list")
filters.write_url(flt, view, page)

with tabs[0]:
    if view == "list" and rows:
        for row in rows:
            with st.container(border=True):
                left, right = st.columns([6, 1], vertical_alignment="center")
                left.markdown(f"**{escape_md(row.name)}**  \n{escape_md(row.organization)}")
                facts = [row.category or "", t(f"directory.att_{row.attending}")]
                facts.append(t("directory.free") if row.is_free else t("directory.paid"))
                facts += [
                    row.municipality or "",
                    "" if row.distance_km is None else t("directory.km", km=fmt_number(row.distance_km, 1)),
                ]
                left.caption(" · ".join(f for f in facts if f))
                notes = [row.schedule_text]
                if row.available is not None:
                    notes.append(
                        tn("directory.places", row.available, date=fmt_date(row.places_updated))
                    )
                if row.days_since_verified is not None:
                    notes.append(tn("directory.verified", row.days_since_verified))
                left.caption(" · ".join(n for n in notes if n))
                if right.button(t("directory.open"), key=f"open_{row.id}", icon=":material/open_in_new:"):
                    _open(row.id, flt)
        pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
        prev, info, nxt = st.columns([1, 3, 1], vertical_alignment="center")
        if prev.button(t("directory.previous"), disabled=page == 0, key="dir_prev"):
            st.session_state["dir_page"] = page - 1
            st.rerun()
        first = page * PAGE_SIZE + 1
        info.caption(
            t(
                "directory.showing",
                first=first,
                last=first + len(rows) - 1,
                total=total,
                page=page + 1,
                pages=pages,
            )
        )
        if nxt.button(t("directory.next"), disabled=page + 1 >= pages, key="dir_next"):
            st.session_state["dir_page"] = page + 1
            st.rerun()

with tabs[1]:
    if view == "map":
        data = _map(db_url, flt, lang)
        centre = options.centres.get(flt.centre_id) if flt.centre_id else None
        focus = (centre.latitude, centre.longitude) if centre else flt.near
        rings = sorted({*maps.RINGS_KM, *([flt.max_km] if flt.max_km else [])})
        common = {
            "centres": options.centres.values(),
            "chosen_centre": focus,
            "chosen_centre_id": flt.centre_id,
            "municipalities": options.places,
        }
        if data.mode == "points":
            deck = maps.activities_deck(data.points, rings_km=rings, **common)
        else:
            st.warning(t("directory.map_aggregated", n=data.total, km=data.cell_km))
            deck = maps.cells_deck(data.cells, cell_km=data.cell_km or 5, **common)
        state = st.pydeck_chart(
            deck, on_select="rerun", selection_mode="single-object", key="dir_map", alt=t("directory.map_alt")
        )
        picked = maps.selected_activities(state)
        if len(picked) == 1:
            _open(picked[0], flt)
        elif picked:
            names = {p["id"]: p["name"] for p in data.points}
            st.markdown(tn("directory.map_place_pick", len(picked)))
            for aid in picked:
                link = {"id": str(aid), **flt.to_query_params()}
                label = names.get(aid, str(aid))
                st.page_link(ACTIVITY_PAGE, label=label, query_params=link, icon=":material/event:")
        if data.mode == "points":
            maps.legend(options.terms["category"], {p["cat"] for p in data.points})
            st.caption(t("directory.map_hint"))
        if data.without_place:
            st.caption(tn("directory.map_online", data.without_place))
        st.caption(t("directory.map_source"))

with tabs[2]:
    if view == "timetable":
        monday = date.today() - timedelta(days=date.today().weekday())
        week = st.date_input(t("directory.week_of"), value=monday, key="dir_week", format="YYYY-MM-DD")
        table = timetable(flt, week, lang=lang)
        if table.capped:
            st.info(t("directory.timetable_capped", shown=table.activities, total=table.total))
        columns = st.columns(7)
        for column, (day, entries) in zip(columns, table.days, strict=True):
            code = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[day.weekday()]
            column.markdown(f"**{days[code]}**  \n{day:%d/%m}")
            for e in entries:
                end = f"–{e.end:%H:%M}" if e.end else ""
                column.page_link(
                    ACTIVITY_PAGE,
                    label=f"{e.start:%H:%M}{end} {md_inline(e.name)}",
                    query_params={"id": str(e.service_id), **flt.to_query_params()},
                )
            if not entries:
                column.caption(t("directory.no_sessions"))
        if table.anytime:
            st.caption(t("directory.anytime", n=len(table.anytime)))
