"""Evaluation of a programme with study arms (issue 5, item 3): CONSORT-style flow, difference in
paired change between arms, health measures and the HbA1c outcome-contract tracker.

Who counts: enrolments in the chosen programme at the user's centres whose enrolment date lies in
the period (`Enrolment.enrolled_on`), by the arm on the enrolment.

* Flow per arm: assessed = enrolled people with a baseline screening in the programme (an
  instrument response of the enrolment at timepoint 0); allocated = enrolments with a row in the
  allocation log (ArmAllocation, counted by the arm drawn); followed up at T = completed follow-ups
  at timepoint T; analysed at T = people with a UCLA-3 (the primary outcome) at baseline and at T.
* Paired change: per person, the score at T minus the baseline score of the same enrolment (the
  mean of the scores if one was entered twice). Per arm n, Σd and Σd² are computed in SQL;
  means, t intervals and the Welch difference (first arm − second arm, e.g. coaching − control)
  in domain.comparison.
* Health measures: the measurement nearest to each time point within a window: baseline within
  BASELINE_WINDOW_DAYS (30) days either side of the enrolment date; month T within
  FOLLOWUP_WINDOW_DAYS (45) days either side of enrolment + T × 30.44 days. Each measure is paired
  on its own (a missing HbA1c does not drop a blood pressure). Days between dates are counted in SQL
  (julianday on SQLite, date subtraction on Postgres).
* Outcome-contract tracker: the cohort is the enrolled people whose baseline HbA1c (as above) is at
  or above the risk threshold (LOTSA_HBA1C_RISK, default 42 mmol/mol); at 6 and 12 months the share
  out of the risk zone (HbA1c below the threshold) of those measured, and of the whole cohort
  (not measured counts as not out). Wilson 95 % intervals (domain.statistics.proportion_ci).

Disclosure: counts leave as `count_cell` text or protected tables (flow and tracker with secondary
suppression across arms); means and shares only from n ≥ min_n; a share is shown only when the
cells it is made of are shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, literal, or_, select
from sqlmodel import Session, col

from db.engine import read_session
from db.models import (
    ArmAllocation,
    Enrolment,
    FollowUp,
    HealthMeasure,
    InstrumentResponse,
    Patient,
    Programme,
)
from domain.cellkey import perturb_counts, perturb_table, published_count
from domain.comparison import SummaryStats, mean_ci, welch_difference
from domain.disclosure import (
    TOTAL,
    protect_counts,
    protect_mean,
    protect_rate,
    protect_table,
    rate_allowed,
)
from domain.programmes import MOVED
from domain.statistics import proportion_ci
from services.dashboards import (
    Period,
    dashboard_scope,
    disclosure_rules,
    period,
    release_scope_key,
    released,
    scoped_cache,
)
from services.errors import NotFound, ValidationError
from settings import get_settings

ACTION = "dashboard.evaluation"
INSTRUMENTS = ("ucla3", "swemwbs")
PRIMARY = "ucla3"
MEASURES = ("systolic", "diastolic", "hba1c", "waist_cm")
MEASURE_TIMEPOINTS = (6, 12)
BASELINE_WINDOW_DAYS = 30
FOLLOWUP_WINDOW_DAYS = 45
DAYS_PER_MONTH = 365.25 / 12
UNALLOCATED = "unallocated"


@dataclass(frozen=True)
class ProgrammeOption:
    id: int
    code: str
    names: dict[str, str]
    arms: tuple[str, ...]


@dataclass(frozen=True)
class FlowStage:
    key: str  # assessed | allocated | followed | analysed
    timepoint: int | None
    cells: tuple[str, ...]  # per arm, protected text
    total: str


@dataclass(frozen=True)
class ArmChange:
    arm: str
    n_text: str
    mean: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class ChangeRow:
    outcome: str  # instrument code or measure name
    timepoint: int
    arms: tuple[ArmChange, ...]
    difference: float | None
    diff_low: float | None
    diff_high: float | None


@dataclass(frozen=True)
class Share:
    text: str
    value: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class TrackerRow:
    arm: str  # an arm or "total"
    timepoint: int
    cohort_text: str
    measured_text: str
    out_text: str
    of_measured: Share
    of_cohort: Share


@dataclass(frozen=True)
class EvaluationView:
    programme: ProgrammeOption
    period: Period
    arms: tuple[str, ...]
    timepoints: tuple[int, ...]
    flow: tuple[FlowStage, ...]
    changes: tuple[ChangeRow, ...]
    measures: tuple[ChangeRow, ...]
    tracker: tuple[TrackerRow, ...]
    threshold: float
    baseline_window: int = BASELINE_WINDOW_DAYS
    followup_window: int = FOLLOWUP_WINDOW_DAYS


def _option(p: Programme) -> ProgrammeOption:
    return ProgrammeOption(
        int(p.id), p.code, {"sv": p.name_sv, "da": p.name_da, "en": p.name_en}, tuple(p.arms or ())
    )


@scoped_cache(ttl_seconds=300)
def evaluation_programmes(principal) -> tuple[ProgrammeOption, ...]:
    """Programmes with study arms (the programme list is small and holds no patient data)."""
    dashboard_scope(principal, None, action=ACTION, roles=("manager",))
    with read_session() as s:
        return tuple(_option(p) for p in s.exec(select(Programme).order_by(Programme.id)).scalars() if p.arms)


def _days(session: Session, later, earlier):
    if session.get_bind().dialect.name == "postgresql":
        return later - earlier
    return func.julianday(later) - func.julianday(earlier)


def _enrolments(programme_id: int, scope: tuple[int, ...], chosen: Period):
    return (
        select(
            Enrolment.id.label("id"),
            Enrolment.patient_id.label("patient_id"),
            func.coalesce(Enrolment.arm, UNALLOCATED).label("arm"),
            Enrolment.enrolled_on.label("enrolled_on"),
        )
        .where(
            Enrolment.programme_id == programme_id,
            col(Enrolment.centre_id).in_(scope),
            Enrolment.enrolled_on >= chosen.start,
            Enrolment.enrolled_on <= chosen.end,
            # moved to another programme (services/followup.py change_programme): evaluated there,
            # not lost here; once randomised, analysed as allocated (intention to treat)
            or_(Enrolment.status != MOVED, col(Enrolment.arm).is_not(None)),
        )
        .subquery()
    )


def _scores(enr, instrument: str, timepoint: int):
    ir = InstrumentResponse
    return (
        select(ir.enrolment_id.label("eid"), func.avg(ir.score).label("x"))
        .join(enr, and_(ir.patient_id == enr.c.patient_id, ir.enrolment_id == enr.c.id))
        .where(ir.instrument == instrument, ir.timepoint_months == timepoint, col(ir.score).is_not(None))
        .group_by(ir.enrolment_id)
        .subquery()
    )


def _sums(session: Session, enr, left, right) -> dict[str, SummaryStats]:
    """Per arm n, Σd, Σd² of the paired change, and (in `KEYS`) the sum of the pairs' record keys."""
    d = right.c.x - left.c.x
    rows = session.execute(
        select(enr.c.arm, func.count(), func.sum(d), func.sum(d * d), _key_sum())
        .select_from(
            enr.join(left, left.c.eid == enr.c.id)
            .join(right, right.c.eid == enr.c.id)
            .join(Patient, Patient.id == enr.c.patient_id)
        )
        .group_by(enr.c.arm)
    ).all()
    return {arm: KeyedStats(int(n), float(s or 0), float(ss or 0), int(k or 0)) for arm, n, s, ss, k in rows}


@dataclass(frozen=True)
class KeyedStats(SummaryStats):
    """SummaryStats with the sum of the contributors' record keys (for the published count)."""

    key_sum: int = 0


def _key_sum(condition=None):
    """SUM of the record keys of the counted rows (joined to Patient), or of those meeting `condition`."""
    value = Patient.record_key if condition is None else case((condition, Patient.record_key), else_=0)
    return func.coalesce(func.sum(value), 0)


def _nearest(session: Session, enr, measure: str, timepoint: int):
    """Per enrolment the measure nearest to the time point within its window (module docstring)."""
    hm = HealthMeasure
    value = getattr(hm, measure)
    target = round(timepoint * DAYS_PER_MONTH)
    window = BASELINE_WINDOW_DAYS if timepoint == 0 else FOLLOWUP_WINDOW_DAYS
    distance = func.abs(_days(session, hm.measured_on, enr.c.enrolled_on) - target)
    ranked = (
        select(
            enr.c.id.label("eid"),
            value.label("x"),
            func.row_number()
            .over(partition_by=enr.c.id, order_by=(distance, hm.measured_on, hm.id))
            .label("rn"),
        )
        .join(enr, hm.patient_id == enr.c.patient_id)
        .where(col(value).is_not(None), distance <= window)
        .subquery()
    )
    return select(ranked.c.eid, ranked.c.x).where(ranked.c.rn == 1).subquery()


def _change_row(outcome: str, timepoint: int, arms: tuple[str, ...], sums: dict, rules) -> ChangeRow:
    shown: list[ArmChange] = []
    for arm in arms:
        group = sums.get(arm, SummaryStats(0, 0.0, 0.0))
        ci = mean_ci(group)
        mean = None if ci.mean is None else protect_mean(group.n, ci.mean, rules)
        shown.append(
            ArmChange(
                arm,
                published_count(group.n, getattr(group, "key_sum", 0), rules)[0],
                _r(mean, 1),
                _r(ci.low, 1) if mean is not None else None,
                _r(ci.high, 1) if mean is not None else None,
            )
        )
    diff = low = high = None
    if len(arms) >= 2:
        a, b = sums.get(arms[0]), sums.get(arms[1])
        if a and b and rate_allowed(a.n, rules) and rate_allowed(b.n, rules):
            result = welch_difference(a, b)
            diff, low, high = _r(result.estimate, 1), _r(result.low, 1), _r(result.high, 1)
    return ChangeRow(outcome, timepoint, tuple(shown), diff, low, high)


def _r(value: float | None, places: int) -> float | None:
    """Published precision (issue 10): means and limits to one decimal, shares to whole percent."""
    return None if value is None else round(value, places)


def _share(num: int, den: int, parts_shown: bool, rules, published: tuple[int | None, int | None]) -> Share:
    """Whether the share may be shown is decided on the true counts; what is shown is computed from
    the published (perturbed) counts, so share x shown count gives back only a published count."""
    protected = protect_rate(num, den, rules, protect_complement=True) if den else None
    pub_num, pub_den = published
    if not parts_shown or protected is None or protected.rate is None or pub_num is None or not pub_den:
        return Share("–", None, None, None)
    pub_num = min(pub_num, pub_den)
    rate = pub_num / pub_den
    low, high = proportion_ci(pub_num, pub_den)
    return Share(f"{rate * 100:.0f} %", _r(rate, 2), _r(low, 2), _r(high, 2))


def _validate_programme(programme_id: object) -> int:
    try:
        value = int(str(programme_id))
    except ValueError:
        raise ValidationError({"programme": ("evaluation.error.programme", {})}) from None
    return value


@scoped_cache(ttl_seconds=300)
def evaluation(principal, programme_id: int, start: date, end: date) -> EvaluationView:
    """The evaluation of one programme with arms for the manager's centres and a reporting period;
    a closed period's view is its protected release (services.dashboards.released)."""
    scope = dashboard_scope(principal, None, action=ACTION, roles=("manager",))
    chosen = period(start, end)
    pid = _validate_programme(programme_id)
    rules = disclosure_rules()
    threshold = float(get_settings().hba1c_risk)
    cell = f"evaluation:{pid}:k{rules.k}:n{rules.min_n_for_rates}:t{threshold:g}"
    return released(
        chosen,
        release_scope_key("c", scope),
        cell,
        lambda: _evaluation(scope, chosen, pid, rules, threshold),
    )


def _evaluation(scope: tuple[int, ...], chosen: Period, pid: int, rules, threshold: float) -> EvaluationView:
    with read_session() as s:
        programme = s.get(Programme, pid)
        if programme is None or not programme.arms:
            raise NotFound()
        option = _option(programme)
        timepoints = tuple(int(t) for t in programme.timepoints if int(t) > 0)
        enr = _enrolments(pid, scope, chosen)
        ir = InstrumentResponse

        people = (
            select(enr.c.arm, enr.c.patient_id)
            .where(
                select(literal(1))
                .where(
                    ir.patient_id == enr.c.patient_id,
                    ir.enrolment_id == enr.c.id,
                    ir.timepoint_months == 0,
                )
                .exists()
            )
            .distinct()
            .subquery()
        )
        keys: dict[tuple[str, str], int] = {}  # flow cell -> sum of its contributors' record keys
        assessed = {}
        for arm, n, k in s.execute(
            select(people.c.arm, func.count(), _key_sum())
            .join(Patient, Patient.id == people.c.patient_id)
            .group_by(people.c.arm)
        ).all():
            assessed[arm] = int(n)
            keys[("assessed:None", arm)] = int(k)
        allocated = {}
        for arm, n, k in s.execute(
            select(ArmAllocation.arm, func.count(), _key_sum())
            .join(enr, ArmAllocation.enrolment_id == enr.c.id)
            .join(Patient, Patient.id == enr.c.patient_id)
            .where(ArmAllocation.programme_id == pid)
            .group_by(ArmAllocation.arm)
        ).all():
            allocated[arm] = int(n)
            keys[("allocated:None", arm)] = int(k)
        followed = {}
        for tp, arm, n, k in s.execute(
            select(FollowUp.timepoint_months, enr.c.arm, func.count(), _key_sum())
            .join(enr, FollowUp.enrolment_id == enr.c.id)
            .join(Patient, Patient.id == enr.c.patient_id)
            .where(FollowUp.status == "completed")
            .group_by(FollowUp.timepoint_months, enr.c.arm)
        ).all():
            followed[(int(tp), arm)] = int(n)
            keys[(f"followed:{int(tp)}", arm)] = int(k)
        baselines = {i: _scores(enr, i, 0) for i in INSTRUMENTS}
        change_sums = {
            (i, tp): _sums(s, enr, baselines[i], _scores(enr, i, tp))
            for i in INSTRUMENTS
            for tp in timepoints
        }
        measure_base = {m: _nearest(s, enr, m, 0) for m in MEASURES}
        measure_sums = {
            (m, tp): _sums(s, enr, measure_base[m], _nearest(s, enr, m, tp))
            for m in MEASURES
            for tp in MEASURE_TIMEPOINTS
        }
        tracker_counts: dict[int, dict[str, tuple[int, int, int]]] = {}
        tracker_keys: dict[int, dict[str, tuple[int, int, int]]] = {}
        base_hba1c = measure_base["hba1c"]
        for tp in MEASURE_TIMEPOINTS:
            later = _nearest(s, enr, "hba1c", tp)
            tracker_counts[tp], tracker_keys[tp] = {}, {}
            for arm, cohort, measured, out, k_cohort, k_measured, k_out in s.execute(
                select(
                    enr.c.arm,
                    func.count(),
                    func.sum(case((later.c.x.is_not(None), 1), else_=0)),
                    func.sum(case((later.c.x < threshold, 1), else_=0)),
                    _key_sum(),
                    _key_sum(later.c.x.is_not(None)),
                    _key_sum(later.c.x < threshold),
                )
                .select_from(
                    enr.join(base_hba1c, base_hba1c.c.eid == enr.c.id)
                    .outerjoin(later, later.c.eid == enr.c.id)
                    .join(Patient, Patient.id == enr.c.patient_id)
                )
                .where(base_hba1c.c.x >= threshold)
                .group_by(enr.c.arm)
            ).all():
                tracker_counts[tp][arm] = (int(cohort), int(measured or 0), int(out or 0))
                tracker_keys[tp][arm] = (int(k_cohort), int(k_measured), int(k_out))

    present = set(assessed) | set(allocated) | {a for _tp, a in followed}
    arms = option.arms + ((UNALLOCATED,) if UNALLOCATED in present else ())

    # Flow: one protected table, stages x arms, with the total across arms per stage.
    stages: list[tuple[str, int | None, dict[str, int]]] = [
        ("assessed", None, {a: int(assessed.get(a, 0)) for a in arms}),
        ("allocated", None, {a: int(allocated.get(a, 0)) for a in arms}),
    ]
    for tp in timepoints:
        stages.append(("followed", tp, {a: followed.get((tp, a), 0) for a in arms}))
        primary = change_sums[(PRIMARY, tp)]
        stages.append(("analysed", tp, {a: primary[a].n if a in primary else 0 for a in arms}))
        keys.update({(f"analysed:{tp}", a): primary[a].key_sum for a in arms if a in primary})
    table = protect_table(
        {(f"{key}:{tp}", a): n for key, tp, counts in stages for a, n in counts.items()},
        row_totals=True,
        column_totals=False,
        grand_total=False,
        rules=rules,
    )
    table = perturb_table(table, keys)
    flow = tuple(
        FlowStage(
            key,
            tp,
            tuple(table.text[(f"{key}:{tp}", a)] for a in arms),
            table.text[(f"{key}:{tp}", TOTAL)],
        )
        for key, tp, _counts in stages
    )

    changes = tuple(
        _change_row(i, tp, option.arms, change_sums[(i, tp)], rules) for i in INSTRUMENTS for tp in timepoints
    )
    measures = tuple(
        _change_row(m, tp, option.arms, measure_sums[(m, tp)], rules)
        for m in MEASURES
        for tp in MEASURE_TIMEPOINTS
    )

    tracker: list[TrackerRow] = []
    for tp in MEASURE_TIMEPOINTS:
        counts = tracker_counts[tp]
        cells, cell_keys = {}, {}
        for arm in option.arms:
            cohort, measured, out = counts.get(arm, (0, 0, 0))
            k_cohort, k_measured, k_out = tracker_keys[tp].get(arm, (0, 0, 0))
            cells[(arm, "out")] = out
            cells[(arm, "not_out")] = measured - out
            cells[(arm, "not_measured")] = cohort - measured
            cell_keys[(arm, "out")] = k_out
            cell_keys[(arm, "not_out")] = k_measured - k_out
            cell_keys[(arm, "not_measured")] = k_cohort - k_measured
        protected = perturb_table(protect_table(cells, rules=rules), cell_keys)
        # "measured" (out + not out) is shown per arm and in total: one list with its total, so a
        # small arm cannot come back as the total minus the other arms.
        measured_counts = perturb_counts(
            protect_counts(
                {arm: counts.get(arm, (0, 0, 0))[1] for arm in option.arms}, total=True, rules=rules
            ),
            {arm: tracker_keys[tp].get(arm, (0, 0, 0))[1] for arm in option.arms},
            rules,
        )
        for arm in (*option.arms, TOTAL):
            out = (
                sum(counts.get(a, (0, 0, 0))[2] for a in option.arms)
                if arm is TOTAL
                else counts.get(arm, (0, 0, 0))[2]
            )
            measured = (
                sum(counts.get(a, (0, 0, 0))[1] for a in option.arms)
                if arm is TOTAL
                else counts.get(arm, (0, 0, 0))[1]
            )
            cohort = (
                sum(counts.get(a, (0, 0, 0))[0] for a in option.arms)
                if arm is TOTAL
                else counts.get(arm, (0, 0, 0))[0]
            )
            shown = {c for c in ("out", "not_out", "not_measured", TOTAL) if (arm, c) in protected.values}
            measured_visible = {"out", "not_out"} <= shown or {TOTAL, "not_measured"} <= shown
            tracker.append(
                TrackerRow(
                    arm="total" if arm is TOTAL else arm,
                    timepoint=tp,
                    cohort_text=protected.text[(arm, TOTAL)],
                    measured_text=measured_counts.text[arm] if measured_visible else rules.secondary_symbol,
                    out_text=protected.text[(arm, "out")],
                    of_measured=_share(
                        out,
                        measured,
                        {"out", "not_out"} <= shown,
                        rules,
                        (protected.values.get((arm, "out")), measured_counts.values.get(arm)),
                    ),
                    of_cohort=_share(
                        out,
                        cohort,
                        {"out", TOTAL} <= shown,
                        rules,
                        (protected.values.get((arm, "out")), protected.values.get((arm, TOTAL))),
                    ),
                )
            )

    return EvaluationView(
        programme=option,
        period=chosen,
        arms=arms,
        timepoints=timepoints,
        flow=flow,
        changes=changes,
        measures=measures,
        tracker=tuple(tracker),
        threshold=threshold,
    )
