"""Health economics (managers): costs per programme, the SROI calculator with its sensitivity
range, and the QALY change (only with a verified EQ-5D value set). All numbers come protected from
services.health_economics."""

from __future__ import annotations

import streamlit as st

from components.dashboard import chart, figure_row, period_filter, suppression_caption, table_with_download
from components.economics_charts import tornado
from components.i18n import current_language, fmt_number, fmt_numbers, show_service_error, t
from components.session import guard
from services.dashboards import Figure
from services.errors import ServiceError, ValidationError
from services.health_economics import (
    GLOBAL,
    MAX_HORIZON,
    MAX_OUTCOMES,
    OutcomeInput,
    SroiInput,
    calculate_sroi,
    money,
    programme_costs,
    programme_options,
    qaly_change,
    qaly_value_set,
    sroi_prefill,
)

principal = guard("economics")
lang = current_language()
st.title(t("page.economics"))
st.caption(t("economics.intro"))

chosen = period_filter()
options = {o.id: o for o in programme_options()}
programme = st.selectbox(
    t("economics.programme"),
    [None, *options],
    format_func=lambda pid: t("economics.all_programmes") if pid is None else options[pid].name(lang),
    key="econ_programme",
)

# Costs ----------------------------------------------------------------------------------------
st.subheader(t("economics.costs"))
hourly_text = st.text_input(t("economics.hourly_cost"), key="econ_hourly", help=t("economics.hourly_help"))
st.caption(t("economics.hourly_note"))
costs = None
try:
    costs = programme_costs(
        principal, chosen.start, chosen.end, programme_id=programme, hourly_cost=hourly_text
    )
except ValidationError as error:
    show_service_error(error, {"hourly_cost": t("economics.hourly_cost")})
    costs = programme_costs(principal, chosen.start, chosen.end, programme_id=programme)
except ServiceError as error:
    show_service_error(error)
    st.stop()

total = costs.total
figure_row(
    [
        (t("economics.participants"), total.participants),
        (t("economics.total_cost"), total.total_cost),
        (t("economics.per_participant"), total.per_participant),
        (t("economics.staff_hours"), total.staff_hours),
    ],
    chosen,
)
header = [
    t("economics.programme"),
    t("economics.participants"),
    t("economics.unit_cost"),
    t("economics.activity_cost"),
    t("economics.staff_hours"),
    t("economics.staff_cost"),
    t("economics.total_cost"),
    t("economics.per_participant"),
]
rows = [
    [
        r.programme.name(lang) if r.programme else t("economics.total"),
        r.participants.text,
        r.unit_cost,
        r.activity_cost.text,
        r.staff_hours.text,
        r.staff_cost.text,
        r.total_cost.text,
        r.per_participant.text,
    ]
    for r in (*costs.rows, total)
]
table_with_download(
    header, rows, file_stem="programme-costs", key="econ_costs", caption=t("economics.costs_note")
)
with st.expander(t("economics.definitions")):
    for key in (
        "participants",
        "activity_cost",
        "staff_hours",
        "staff_cost",
        "total_cost",
        "per_participant",
    ):
        st.markdown(f"**{t(f'economics.{key}')}**: {t(f'economics.def.{key}')}")
st.caption(suppression_caption())

# SROI calculator -----------------------------------------------------------------------------------
st.subheader(t("economics.sroi"))
st.markdown(t("economics.sroi_intro"))
prefill = sroi_prefill(principal, chosen.start, chosen.end, programme_id=programme)
for p in prefill:
    if p.threshold is None:
        st.caption(t("economics.prefill_none", instrument=t(f"economics.instrument.{p.instrument}")))
    else:
        st.caption(
            t(
                "economics.prefill_note",
                instrument=t(f"economics.instrument.{p.instrument}"),
                n=p.text,
                paired=p.paired,
                threshold=fmt_number(p.threshold, 2),
                source=p.source,
            )
        )
st.info(t("economics.proxy_note"))

columns = (
    "name",
    "quantity",
    "proxy",
    "proxy_source",
    "deadweight",
    "attribution",
    "displacement",
    "drop_off",
    "duration",
)
initial = {c: [] for c in columns}
for p in prefill:
    initial["name"].append(t(f"economics.outcome.{p.instrument}"))
    initial["quantity"].append("" if p.quantity is None else str(p.quantity))
    initial["proxy"].append("")
    initial["proxy_source"].append("")
    for c in ("deadweight", "attribution", "displacement", "drop_off"):
        initial[c].append("0")
    initial["duration"].append("1")

with st.form("sroi_form"):
    edited = st.data_editor(
        initial,
        num_rows="dynamic",
        key=f"sroi_rows_{chosen.start}_{chosen.end}_{programme}",
        width="stretch",
        column_config={c: st.column_config.TextColumn(t(f"economics.field.{c}")) for c in columns},
    )
    left, mid, right = st.columns(3)
    investment = left.text_input(
        t("economics.field.investment"),
        value="" if costs.investment is None else f"{costs.investment:.0f}",
        key=f"sroi_investment_{chosen.start}_{chosen.end}_{programme}_{hourly_text}",
        help=t("economics.investment_help"),
    )
    discount = mid.text_input(
        t("economics.field.discount_rate"), value="", key="sroi_discount", help=t("economics.discount_help")
    )
    horizon = right.text_input(t("economics.field.horizon"), value="3", key="sroi_horizon")
    submitted = st.form_submit_button(t("economics.calculate"), type="primary")

if submitted:
    n_rows = len(edited["name"]) if isinstance(edited, dict) else len(edited)

    def cell(column: str, i: int):
        value = edited[column][i] if isinstance(edited, dict) else edited.iloc[i][column]
        return "" if value is None else value

    st.session_state["sroi_input"] = SroiInput(
        outcomes=tuple(OutcomeInput(**{c: cell(c, i) for c in columns}) for i in range(n_rows)),
        investment=investment,
        discount_rate=discount,
        horizon=horizon,
    )

data = st.session_state.get("sroi_input")
if data is not None:
    labels = {
        "investment": t("economics.field.investment"),
        "discount_rate": t("economics.field.discount_rate"),
        "horizon": t("economics.field.horizon"),
        "outcomes": t("economics.outcomes"),
    }
    for i in range(1, MAX_OUTCOMES + 2):
        for c in columns:
            labels[f"o{i}.{c}"] = t("economics.row_field", n=i, field=t(f"economics.field.{c}"))
    try:
        result = calculate_sroi(principal, data)
    except ServiceError as error:
        show_service_error(error, labels)
        result = None
    if result is not None:
        figure_row(
            [
                (
                    t("economics.ratio"),
                    Figure("ratio", f"{result.ratio:.2f}", result.ratio, "economics.def.ratio"),
                ),
                (
                    t("economics.present_value"),
                    Figure(
                        "pv",
                        money(result.total_present_value),
                        result.total_present_value,
                        "economics.def.present_value",
                    ),
                ),
                (
                    t("economics.net_present_value"),
                    Figure(
                        "npv",
                        money(result.net_present_value),
                        result.net_present_value,
                        "economics.def.net_present_value",
                    ),
                ),
                (
                    t("economics.range"),
                    Figure("range", f"{result.low:.2f}–{result.high:.2f}", result.low, "economics.def.range"),
                ),
            ]
        )

        def bar_label(outcome: str, assumption: str) -> str:
            name = t(f"economics.assumption.{assumption}")
            return name if outcome == GLOBAL else f"{outcome}: {name}"

        chart(
            tornado(
                result,
                bar_label=bar_label,
                title=t("economics.tornado_title"),
                x_label=t("economics.tornado_x"),
                low_name=t("economics.tornado_low"),
                high_name=t("economics.tornado_high"),
                base_name=t("economics.tornado_base"),
                number=lambda v: fmt_number(v, 2),
            ),
            width="stretch",
        )
        st.markdown(
            t(
                "economics.explain",
                ratio=fmt_number(result.ratio, 2),
                low=fmt_number(result.low, 2),
                high=fmt_number(result.high, 2),
                clow=fmt_number(result.combined_low, 2),
                chigh=fmt_number(result.combined_high, 2),
                rate=fmt_numbers(f"{result.discount_rate:g}"),
                years=result.horizon,
            )
        )
        st.markdown(t("economics.context"))
        out_rows = [[o or t("economics.all"), t(f"economics.field.{a}"), v] for o, a, v in result.assumptions]
        out_rows += [
            # Numbers, not text: the CSV download keeps them numeric; the table shows them localized.
            [t("economics.all"), t("economics.present_value"), round(result.total_present_value, 2)],
            [t("economics.all"), t("economics.net_present_value"), round(result.net_present_value, 2)],
            [t("economics.all"), t("economics.ratio"), round(result.ratio, 4)],
            # an interval's ends in rows of their own, as numbers
            [t("economics.all"), f"{t('economics.range')}, {t('economics.csv_low')}", round(result.low, 4)],
            [t("economics.all"), f"{t('economics.range')}, {t('economics.csv_high')}", round(result.high, 4)],
            [
                t("economics.all"),
                f"{t('economics.combined_range')}, {t('economics.csv_low')}",
                round(result.combined_low, 4),
            ],
            [
                t("economics.all"),
                f"{t('economics.combined_range')}, {t('economics.csv_high')}",
                round(result.combined_high, 4),
            ],
        ]
        table_with_download(
            [t("economics.outcome"), t("economics.assumption"), t("economics.value")],
            out_rows,
            file_stem="sroi",
            key="sroi_result",
        )
else:
    st.caption(t("economics.sroi_waiting"))

# QALY -------------------------------------------------------------------------------------------------
st.subheader(t("economics.qaly"))
if not qaly_value_set():
    st.info(t("economics.qaly_none"))
else:
    years = st.columns(4)[0].number_input(
        t("economics.qaly_horizon"),
        min_value=1,
        max_value=MAX_HORIZON,
        value=3,
        step=1,
        key="qaly_horizon",
        help=t("economics.qaly_horizon_help"),
    )
    try:
        qaly = qaly_change(principal, chosen.start, chosen.end, programme, horizon=years)
    except ValidationError as error:
        show_service_error(error, {"qaly_horizon": t("economics.qaly_horizon")})
        qaly = None
    except ServiceError as error:
        show_service_error(error)
        qaly = None
    if qaly is not None:
        st.markdown(t("economics.qaly_method"))
        st.caption(t("economics.qaly_source", country=qaly.country, source=qaly.source))
        figure_row(
            [
                (t("economics.qaly_pairs"), qaly.pairs),
                (t("economics.qaly_baseline"), qaly.baseline),
                (t("economics.qaly_followup"), qaly.followup),
                (t("economics.qaly_change"), qaly.change),
                (t("economics.qaly_step", years=qaly.horizon), qaly.qaly_step),
                (t("economics.qaly_linear", years=qaly.horizon), qaly.qaly_linear),
            ],
            chosen,
        )
        if qaly.intervals:
            table_with_download(
                [
                    t("economics.qaly_measure"),
                    t("economics.qaly_estimate"),
                    t("economics.qaly_low"),
                    t("economics.qaly_high"),
                ],
                [
                    [t(f"economics.qaly_{key}", years=qaly.horizon), value, low, high]
                    for key, value, low, high in qaly.intervals
                ],
                file_stem="qaly",
                key="qaly_intervals",
                caption=t("economics.qaly_interval_note"),
            )
        if qaly.change.withheld:
            st.caption(t("economics.qaly_withheld", min_n=qaly.min_n))
