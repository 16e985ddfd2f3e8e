"""Evaluation of a programme with study arms: CONSORT-style flow, difference in change between
arms, health measures and the HbA1c outcome-contract tracker."""

from __future__ import annotations

import streamlit as st

from components.dashboard import chart, period_filter, suppression_caption, table_with_download
from components.evaluation_charts import change_figure, consort_figure, tracker_figure
from components.i18n import current_language, fmt_numbers, show_service_error, t
from components.session import guard
from services.errors import ServiceError
from services.evaluation import INSTRUMENTS, MEASURES, evaluation, evaluation_programmes

principal = guard("evaluation")
st.title(t("page.evaluation"))
st.caption(t("evaluation.intro"))

try:
    programmes = evaluation_programmes(principal)
except ServiceError as error:
    show_service_error(error)
    st.stop()
if not programmes:
    st.info(t("evaluation.no_programmes"))
    st.stop()

lang = current_language()
by_id = {p.id: p for p in programmes}
programme_id = st.selectbox(
    t("evaluation.programme"),
    options=list(by_id),
    format_func=lambda i: by_id[i].names.get(lang, by_id[i].code),
)
st.caption(t("evaluation.period_help"))
chosen = period_filter("evaluation")
try:
    view = evaluation(principal, programme_id, chosen.start, chosen.end)
except ServiceError as error:
    show_service_error(error)
    st.stop()

arm_labels = {a: t(f"evaluation.arm.{a}") for a in (*view.arms, "total")}


def _count(text: str) -> int | str:
    """A published count as a number ("42" -> 42); "<5", "*" and "–" stay as they are."""
    return int(text) if text.isdigit() else text


def fmt(value: float | None, digits: int = 2) -> float | None:
    """A mean as a number: the table shows it in the user's language, the CSV keeps the number."""
    return None if value is None else round(value, digits)


def ci(low: float | None, high: float | None, digits: int = 2) -> str:
    return "–" if low is None or high is None else f"{low:.{digits}f} … {high:.{digits}f}"


def pct_ci(low: float | None, high: float | None) -> str:
    return "–" if low is None or high is None else f"{low * 100:.0f} … {high * 100:.0f} %"


def definition(key: str, **params: object) -> None:
    with st.popover(t("evaluation.definition"), icon=":material/info:"):
        st.markdown(t(key, **params))
        st.markdown(f"**{t('dashboard.period')}:** {view.period.label()}")


# Flow ---------------------------------------------------------------------------------------------
st.subheader(t("evaluation.flow_title"))
definition("evaluation.def.flow")
stage_labels = [
    t(f"evaluation.stage.{s.key}")
    if s.timepoint is None
    else t(f"evaluation.stage.{s.key}", months=s.timepoint)
    for s in view.flow
]
chart(
    consort_figure(view.flow, view.arms, stage_labels, arm_labels, t("evaluation.flow_chart")),
    config={"displaylogo": False, "staticPlot": True},
    key="consort",
)
table_with_download(
    [t("evaluation.col.stage"), *(arm_labels[a] for a in view.arms), t("evaluation.arm.total")],
    [[label, *s.cells, s.total] for label, s in zip(stage_labels, view.flow, strict=True)],
    file_stem="evaluation-flow",
    key="flow",
)

# Difference in change -----------------------------------------------------------------------------
first, second = (*view.programme.arms, "", "")[:2]
diff_label = t(
    "evaluation.col.difference", first=arm_labels.get(first, first), second=arm_labels.get(second, second)
)


def change_table(rows, file_stem: str, outcome_key: str) -> None:
    header = [t("evaluation.col.outcome"), t("evaluation.col.timepoint")]
    for a in view.programme.arms:
        header += [
            f"{arm_labels[a]}: {t('evaluation.col.n')}",
            f"{arm_labels[a]}: {t('evaluation.col.mean')}",
            f"{arm_labels[a]}: {t('evaluation.col.ci')}",
        ]
    header += [diff_label, t("evaluation.col.diff_ci")]
    body = []
    # the CSV: each interval's ends in two number columns (the table shows "0,10 … 0,94")
    low, high = t("outcomes.csv.ci_low"), t("outcomes.csv.ci_high")
    csv_header = [t("evaluation.col.outcome"), t("evaluation.col.timepoint")]
    for a in view.programme.arms:
        csv_header += [
            f"{arm_labels[a]}: {t('evaluation.col.n')}",
            f"{arm_labels[a]}: {t('evaluation.col.mean')}",
            f"{arm_labels[a]}: {low}",
            f"{arm_labels[a]}: {high}",
        ]
    csv_header += [diff_label, f"{diff_label}: {low}", f"{diff_label}: {high}"]
    csv_body = []
    for r in rows:
        line: list[object] = [t(f"{outcome_key}.{r.outcome}"), t("evaluation.months", months=r.timepoint)]
        csv_line: list[object] = [t(f"{outcome_key}.{r.outcome}"), r.timepoint]
        for a in r.arms:
            line += [a.n_text, fmt(a.mean), ci(a.low, a.high)]
            csv_line += [_count(a.n_text), fmt(a.mean), fmt(a.low), fmt(a.high)]
        line += [fmt(r.difference), ci(r.diff_low, r.diff_high)]
        csv_line += [fmt(r.difference), fmt(r.diff_low), fmt(r.diff_high)]
        body.append(line)
        csv_body.append(csv_line)
    table_with_download(header, body, file_stem=file_stem, key=file_stem, csv=(csv_header, csv_body))


st.subheader(t("evaluation.change_title"))
definition("evaluation.def.change", first=arm_labels.get(first, first), second=arm_labels.get(second, second))
columns = st.columns(len(INSTRUMENTS))
for column, instrument in zip(columns, INSTRUMENTS, strict=True):
    rows = [r for r in view.changes if r.outcome == instrument]
    chart(
        change_figure(
            rows,
            arm_labels,
            title=t(f"evaluation.outcome.{instrument}"),
            x_label=t("evaluation.axis.timepoint"),
            y_label=t(f"evaluation.axis.change.{instrument}"),
            timepoint_label=t("evaluation.months"),
        ),
        container=column,
        config={"displaylogo": False},
        key=f"change_{instrument}",
    )
change_table(view.changes, "evaluation-change", "evaluation.outcome")

# Health measures ---------------------------------------------------------------------------------
st.subheader(t("evaluation.measures_title"))
definition("evaluation.def.measures", base=view.baseline_window, window=view.followup_window)
columns = st.columns(2)
for i, measure in enumerate(MEASURES):
    rows = [r for r in view.measures if r.outcome == measure]
    chart(
        change_figure(
            rows,
            arm_labels,
            title=t(f"evaluation.measure.{measure}"),
            x_label=t("evaluation.axis.timepoint"),
            y_label=t(f"evaluation.axis.measure.{measure}"),
            timepoint_label=t("evaluation.months"),
        ),
        container=columns[i % 2],
        config={"displaylogo": False},
        key=f"measure_{measure}",
    )
change_table(view.measures, "evaluation-measures", "evaluation.measure")

# Outcome contract tracker ------------------------------------------------------------------------
st.subheader(t("evaluation.tracker_title"))
threshold = fmt_numbers(f"{view.threshold:g}")
definition("evaluation.def.tracker", threshold=threshold, window=view.followup_window)
chart(
    tracker_figure(
        view.tracker,
        arm_labels,
        title=t("evaluation.tracker_chart", threshold=threshold),
        x_label=t("evaluation.axis.timepoint"),
        y_label=t("evaluation.axis.share_out"),
        timepoint_label=t("evaluation.months"),
    ),
    config={"displaylogo": False},
    key="tracker",
)
tracker_header = [
    t("evaluation.col.arm"),
    t("evaluation.col.timepoint"),
    t("evaluation.col.cohort"),
    t("evaluation.col.measured"),
    t("evaluation.col.out"),
    t("evaluation.col.of_measured"),
    t("evaluation.col.ci"),
    t("evaluation.col.of_cohort"),
    t("evaluation.col.ci"),
]


def _whole_pct(fraction: float | None) -> int | None:
    return None if fraction is None else round(100 * fraction)


def _pct(share) -> int | str:
    """A share as a whole percent number for the CSV; its text ("–", withheld) otherwise."""
    return share.text if share.value is None else round(100 * share.value)


table_with_download(
    tracker_header,
    [
        [
            arm_labels.get(r.arm, r.arm),
            t("evaluation.months", months=r.timepoint),
            r.cohort_text,
            r.measured_text,
            r.out_text,
            r.of_measured.text,
            pct_ci(r.of_measured.low, r.of_measured.high),
            r.of_cohort.text,
            pct_ci(r.of_cohort.low, r.of_cohort.high),
        ]
        for r in view.tracker
    ],
    file_stem="evaluation-tracker",
    key="tracker",
    # the CSV: counts and shares as numbers (shares and interval ends in whole percent)
    csv=(
        [
            *tracker_header[:5],
            *(
                column
                for name in (t("evaluation.col.of_measured"), t("evaluation.col.of_cohort"))
                for column in (
                    f"{name} (%)",
                    f"{name}, {t('outcomes.csv.ci_low')} (%)",
                    f"{name}, {t('outcomes.csv.ci_high')} (%)",
                )
            ),
        ],
        [
            [
                arm_labels.get(r.arm, r.arm),
                r.timepoint,
                _count(r.cohort_text),
                _count(r.measured_text),
                _count(r.out_text),
                _pct(r.of_measured),
                _whole_pct(r.of_measured.low),
                _whole_pct(r.of_measured.high),
                _pct(r.of_cohort),
                _whole_pct(r.of_cohort.low),
                _whole_pct(r.of_cohort.high),
            ]
            for r in view.tracker
        ],
    ),
)
st.caption(suppression_caption())
