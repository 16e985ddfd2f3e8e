"""Gap analysis (managers; partners of a municipality): needs against supply as tables, a chart, a
map overlay and plain findings. Everything comes protected from services.gaps."""

from __future__ import annotations

import streamlit as st

from components.dashboard import chart, figure_row, period_filter, suppression_caption, table_with_download
from components.gaps_charts import gap_deck, needs_vs_supply
from components.i18n import current_language, show_service_error, t
from components.session import guard
from services.dashboards import Figure
from services.errors import ServiceError
from services.gaps import gaps

principal = guard("gaps")
lang = current_language()
st.title(t("page.gaps"))
st.caption(t("gaps.intro"))
chosen = period_filter()
try:
    view = gaps(principal, chosen.start, chosen.end)
except ServiceError as error:
    show_service_error(error)
    st.stop()

if not view.available:
    st.info(t("gaps.not_municipality"))
    st.stop()
if not view.municipalities:
    st.info(t("dashboard.empty_table"))
    st.stop()

st.caption(t("gaps.scope", places=", ".join(view.municipalities)))


def need_label(code: str) -> str:
    return t(f"matching.need.{code}")


def who(f) -> str:
    parts = []
    if f.sex in ("male", "female"):
        parts.append(t(f"gaps.who.{f.sex}"))
    if f.age_group:
        parts.append(t("gaps.who.age", group=f.age_group))
    return " ".join(parts) if parts else t("gaps.who.anyone")


def total_figure(text: str, key: str) -> Figure:
    return Figure(key, text, float(text) if text.isdigit() else None, f"gaps.def.{key}")


figure_row(
    [
        (t("gaps.unmet"), total_figure(view.unmet_total, "unmet")),
        (t("gaps.referrals"), total_figure(view.referral_total, "referrals")),
    ],
    chosen,
)

st.subheader(t("gaps.findings"))
if view.findings:
    lines = []
    for f in view.findings:
        when = t(f"gaps.when.{f.time_of_day}") if f.time_of_day else ""
        key = "gaps.finding.none" if f.supply == 0 else "gaps.finding.some"
        lines.append(
            "- "
            + t(
                key,
                when=when,
                need=need_label(f.need).lower(),
                who=who(f),
                area=f.area,
                municipality=f.municipality,
                n=f.count,
                m=f.supply,
            )
        )
    st.markdown("\n".join(lines))
    st.caption(t("gaps.findings_rule"))
else:
    st.info(t("gaps.no_findings"))

st.subheader(t("gaps.by_need"))
table_with_download(
    [
        t("gaps.need"),
        t("gaps.unmet"),
        t("gaps.referrals"),
        t("gaps.categories"),
        t("gaps.activities"),
        t("gaps.free_places"),
    ],
    [
        [
            need_label(r.need),
            r.unmet,
            r.referrals,
            ", ".join(view.category(c, lang) for c in r.categories) or "–",
            r.activities,
            r.free_places,
        ]
        for r in view.need_rows
    ]
    + [[t("gaps.total"), view.unmet_total, view.referral_total, "", "", ""]],
    file_stem="gaps-needs",
    key="gaps_needs",
)
if view.need_rows:
    chart(
        needs_vs_supply(
            view,
            need_label=need_label,
            title=t("gaps.chart_title"),
            y_label=t("gaps.chart_y"),
            unmet_name=t("gaps.unmet"),
            referrals_name=t("gaps.referrals"),
            activities_name=t("gaps.activities"),
        ),
        width="stretch",
    )

left, right = st.columns(2)
with left:
    st.subheader(t("gaps.by_when"))
    table_with_download(
        [t("gaps.when"), t("gaps.unmet"), t("gaps.activities")],
        [
            [
                t(f"schedule.day.{r.code}") if r.kind == "day" else t(f"gaps.when.{r.code}"),
                r.unmet,
                r.activities,
            ]
            for r in view.when_rows
        ],
        file_stem="gaps-when",
        key="gaps_when",
        caption=t("gaps.when_note"),
    )
with right:
    st.subheader(t("gaps.by_area"))
    table_with_download(
        [
            t("gaps.municipality"),
            t("gaps.area"),
            t("gaps.unmet"),
            t("gaps.activities"),
            t("gaps.free_places"),
        ],
        [
            [
                r.municipality,
                r.area or t("gaps.all_areas"),
                r.unmet,
                "" if r.activities is None else r.activities,
                "" if r.free_places is None else r.free_places,
            ]
            for r in view.area_rows
        ],
        file_stem="gaps-areas",
        key="gaps_areas",
        caption=t("gaps.area_note"),
    )

st.subheader(t("gaps.map"))
st.pydeck_chart(
    gap_deck(view, need_text=t("gaps.map_need", n="{n}"), cell_text=t("gaps.map_cell", n="{n}")),
    key="gaps_map",
)
st.caption(t("gaps.map_legend_cells" if view.activity_cells else "gaps.map_legend"))
st.caption(suppression_caption())
