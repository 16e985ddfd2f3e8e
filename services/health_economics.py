"""Health economics for managers (issue 5, item 4): costs per programme and cost per participant,
the SROI calculator (validated input, ratio, one-at-a-time sensitivity) and the QALY change (only
with a verified EQ-5D value set; see the QALY section below).

Costs per programme, over the manager's centres and the period:

- participants: enrolments in the programme whose `enrolled_on` lies in the period;
- activity costs: participants x `Programme.cost_per_participant` (empty when the programme has
  no cost recorded);
- staff hours: the minutes of coaching contacts in the period of patients with such an enrolment
  (same centre), summed in SQL, / 60; staff cost = hours x the hourly staff cost the user enters
  (Lotsa ships no default: none is included until one is entered);
- total and cost per participant through `domain.economics.cost_per_participant`.

Disclosure: the participant count goes out as `count_cell`, the programme list with its total
through `protect_counts` (secondary suppression), every shown count perturbed by its cell key
(domain/cellkey.py), and every cost is computed from the PUBLISHED participant count (cost / unit
cost gives back only the published count). A closed period's participant counts are its protected
release (services.dashboards.released). A programme whose participant count is hidden
shows no cost either (cost = count x unit cost would give the count back), and the total cost is
shown only when no programme row is hidden. Cost per participant (a mean) needs at least
`min_n_for_rates` participants.

The SROI calculator takes what the user typed (text or numbers), validates each field in the
service (ValidationError with one key per field) and runs `domain.economics.sroi` and
`sensitivity`. Its pre-filled quantities are read from Centre outcomes' protected release for the
same period, scope and programme (the reliable-change table: people with a reliable improvement in
UCLA-3 or SWEMWBS at their latest follow-up, with SD1 and r from `configured_reliability()`), so
the two pages cannot disagree or complete each other; without SD1 and r, or when Centre outcomes
hides the cell, no quantity is pre-filled. No financial proxy is pre-filled: Lotsa ships none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from types import MappingProxyType

from sqlalchemy import Float, and_, case, func, literal, or_
from sqlmodel import col, select

from db.engine import read_session
from db.models import CoachingContact, Enrolment, InstrumentResponse, Patient, Programme
from domain.cellkey import perturb_counts, published_count
from domain.disclosure import TOTAL, DisclosureRules, protect_counts, protect_mean
from domain.economics import GLOBAL, SroiOutcome, cost_per_participant, qaly_gain, sensitivity
from domain.eq5d import DIMENSIONS as EQ5D_DIMENSIONS
from domain.eq5d import ValueSet, ValueSetError, load_value_set
from domain.statistics import minimum_reliable_difference
from services.audit import require_role
from services.dashboards import (
    Figure,
    configured_reliability,
    dashboard_scope,
    disclosure_rules,
    period,
    release_scope_key,
    released,
    scoped_cache,
)
from services.errors import ServiceError, ValidationError
from services.outcomes import centre_dashboard, t_interval
from services.principal import Principal
from settings import get_settings

ACTION = "economics.view"
ROLES = ("manager",)
WITHHELD = "–"
MAX_HOURLY_COST = 100_000.0
MAX_QUANTITY = 10_000_000.0
MAX_PROXY = 1_000_000_000.0
MAX_INVESTMENT = 1_000_000_000_000.0
MAX_HORIZON = 10
MAX_OUTCOMES = 12
MAX_TEXT = 200
PREFILL_INSTRUMENTS = ("ucla3", "swemwbs")


def money(value: float | None) -> str:
    """An amount as shown: whole units with thin-space thousands ("12 345"), or "–"."""
    if value is None:
        return WITHHELD
    return f"{value:,.0f}".replace(",", "\u202f")


# Costs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeOption:
    id: int
    code: str
    names: tuple[str, str, str]  # sv, da, en

    def name(self, lang: str) -> str:
        return dict(zip(("sv", "da", "en"), self.names, strict=True)).get(lang, self.names[0])


@dataclass(frozen=True)
class ProgrammeCost:
    programme: ProgrammeOption | None  # None for the total row
    participants: Figure
    unit_cost: str
    activity_cost: Figure
    staff_hours: Figure
    staff_cost: Figure
    total_cost: Figure
    per_participant: Figure


@dataclass(frozen=True)
class CostView:
    rows: tuple[ProgrammeCost, ...]
    total: ProgrammeCost
    hourly_cost: float | None
    investment: float | None  # the shown total cost, for the SROI input (None when withheld)


def programme_options() -> tuple[ProgrammeOption, ...]:
    """Programmes for the filter (no patient data)."""
    with read_session() as s:
        rows = s.exec(
            select(
                Programme.id, Programme.code, Programme.name_sv, Programme.name_da, Programme.name_en
            ).order_by(Programme.id)
        ).all()
    return tuple(ProgrammeOption(r[0], r[1], (r[2], r[3], r[4])) for r in rows)


def check_hourly_cost(value: object) -> float | None:
    """The hourly staff cost as typed: empty is None (no staff cost), else a finite number from 0 to
    MAX_HOURLY_COST. Errors name the field `hourly_cost`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _number(value)
    if number is None:
        raise ValidationError({"hourly_cost": ("economics.error.not_number", {})})
    if not 0 <= number <= MAX_HOURLY_COST:
        raise ValidationError(
            {"hourly_cost": ("economics.error.range", {"low": 0, "high": money(MAX_HOURLY_COST)})}
        )
    return number


def programme_costs(
    principal: Principal,
    start: date,
    end: date,
    *,
    programme_id: int | None = None,
    hourly_cost: object = None,
    centre_ids: tuple[int, ...] | None = None,
) -> CostView:
    """Costs per programme in the manager's centres and the period (see the module docstring)."""
    require_role(principal, *ROLES, action=ACTION)
    chosen = period(start, end)
    hourly = check_hourly_cost(hourly_cost)
    if programme_id is not None and (isinstance(programme_id, bool) or not isinstance(programme_id, int)):
        raise ValidationError({"programme": ("economics.error.programme", {})})
    return _programme_costs(principal, chosen.start, chosen.end, programme_id, hourly, centre_ids)


def _cost_figure(key: str, value: float | None, definition: str) -> Figure:
    return Figure(key, money(value), value, definition)


@scoped_cache(ttl_seconds=300)
def _programme_costs(
    principal: Principal,
    start: date,
    end: date,
    programme_id: int | None,
    hourly: float | None,
    centre_ids: tuple[int, ...] | None,
) -> CostView:
    centres = dashboard_scope(principal, centre_ids, action=ACTION, roles=ROLES)
    rules = disclosure_rules()
    with read_session() as s:
        programmes = [p for p in programme_options() if programme_id is None or p.id == programme_id]
        units = dict(s.exec(select(Programme.id, Programme.cost_per_participant)).all())
        enrol_filter = and_(
            col(Enrolment.centre_id).in_(centres),
            Enrolment.enrolled_on >= start,
            Enrolment.enrolled_on <= end,
        )
        participants, participant_keys = {}, {}
        for pid, n, k in (
            s.exec(
                select(Enrolment.programme_id, func.count(), func.coalesce(func.sum(Patient.record_key), 0))
                .join(Patient, Patient.id == Enrolment.patient_id)
                .where(enrol_filter)
                .group_by(Enrolment.programme_id)
            ).all()
            if centres
            else []
        ):
            participants[pid], participant_keys[str(pid)] = int(n), int(k)
        minutes = (
            dict(
                s.exec(
                    select(Enrolment.programme_id, func.coalesce(func.sum(CoachingContact.minutes), 0))
                    .join(
                        Enrolment,
                        and_(
                            Enrolment.patient_id == CoachingContact.patient_id,
                            Enrolment.centre_id == CoachingContact.centre_id,
                        ),
                    )
                    .where(
                        enrol_filter, CoachingContact.contact_on >= start, CoachingContact.contact_on <= end
                    )
                    .group_by(Enrolment.programme_id)
                ).all()
            )
            if centres
            else {}
        )
    counts = {str(p.id): int(participants.get(p.id, 0)) for p in programmes}

    def publish(chosen: dict[str, int]):
        return perturb_counts(protect_counts(chosen, total=True, rules=rules), participant_keys, rules)

    if programme_id is None:
        # A closed period's participant counts are released once per scope.
        cell = f"economics.participants:k{rules.k}"
        protected = released(
            period(start, end), release_scope_key("c", centres), cell, lambda: publish(counts)
        )
    else:
        # One programme: its entry of the same release (a closed period), the list of one otherwise.
        everything = {str(p.id): int(participants.get(p.id, 0)) for p in programme_options()}
        cell = f"economics.participants:k{rules.k}"
        whole = released(
            period(start, end), release_scope_key("c", centres), cell, lambda: publish(everything)
        )
        protected = publish(counts)
        label = str(programme_id)
        if label in whole.text and label in protected.text:
            text = {**protected.text, label: whole.text[label], TOTAL: whole.text[label]}
            values = {k: v for k, v in protected.values.items() if k not in (label, TOTAL)}
            if label in whole.values:
                values[label] = values[TOTAL] = whole.values[label]
            protected = replace(protected, text=MappingProxyType(text), values=MappingProxyType(values))
    # What the costs are computed from: the published counts (0 for a hidden one, never shown).
    counts = {label: int(protected.values.get(label) or 0) for label in counts}

    def row(
        option: ProgrammeOption | None, n: int, shown: bool, unit: float | None, mins: float
    ) -> ProgrammeCost:
        label = protected.text[str(option.id)] if option else protected.text.get(TOTAL, "0")
        participants_fig = Figure(
            "participants", label, float(n) if shown else None, "economics.def.participants"
        )
        hours = mins / 60
        ok = shown and n > 0
        activity = unit * n if (ok and unit is not None) else None
        staff_cost = hours * hourly if (ok and hourly is not None) else None
        total = per = None
        if ok and activity is not None:
            result = cost_per_participant(hours, hourly or 0.0, activity, n)
            total = result.total_cost
            per = (
                result.per_participant if protect_mean(n, result.per_participant, rules) is not None else None
            )
        return ProgrammeCost(
            programme=option,
            participants=participants_fig,
            unit_cost=money(unit),
            activity_cost=_cost_figure("activity_cost", activity, "economics.def.activity_cost"),
            staff_hours=Figure(
                "staff_hours",
                f"{hours:,.1f}".replace(",", "\u202f") if ok else WITHHELD,
                round(hours, 1) if ok else None,
                "economics.def.staff_hours",
            ),
            staff_cost=_cost_figure("staff_cost", staff_cost, "economics.def.staff_cost"),
            total_cost=_cost_figure("total_cost", total, "economics.def.total_cost"),
            per_participant=_cost_figure("per_participant", per, "economics.def.per_participant"),
        )

    rows = tuple(
        row(
            p,
            counts[str(p.id)],
            str(p.id) in protected.values,
            units.get(p.id),
            float(minutes.get(p.id, 0) or 0),
        )
        for p in programmes
    )
    n_total = sum(counts.values())
    all_shown = all(str(p.id) in protected.values for p in programmes if counts[str(p.id)] > 0)
    priced = [p for p in programmes if counts[str(p.id)] > 0]
    if all_shown and priced and all(units.get(p.id) is not None for p in priced):
        unit_total = math.fsum(units[p.id] * counts[str(p.id)] for p in priced)
        avg_unit = unit_total / n_total
    else:
        avg_unit = None
    total = row(
        None,
        n_total,
        TOTAL in protected.values and all_shown,
        avg_unit,
        float(sum(minutes.get(p.id, 0) or 0 for p in programmes)),
    )
    total = ProgrammeCost(
        programme=None,
        participants=Figure(
            "participants",
            protected.text.get(TOTAL, "0"),
            total.participants.value,
            "economics.def.participants",
        ),
        unit_cost=WITHHELD,
        activity_cost=total.activity_cost,
        staff_hours=total.staff_hours,
        staff_cost=total.staff_cost,
        total_cost=total.total_cost,
        per_participant=total.per_participant,
    )
    return CostView(rows=rows, total=total, hourly_cost=hourly, investment=total.total_cost.value)


# Pre-filled SROI quantities --------------------------------------------------------------------


def paired_scores(instrument: str, enrolments):
    """A subquery (eid, base, follow): per enrolment in the `enrolments` select, the baseline score
    (time point 0) and the score at the latest follow-up time point (> 0) of `instrument`; several
    responses at one time point are averaged. Only enrolments with both appear."""
    ir = InstrumentResponse
    common = (ir.instrument == instrument, col(ir.score).is_not(None), col(ir.enrolment_id).in_(enrolments))
    base = (
        select(ir.enrolment_id.label("eid"), func.avg(ir.score).label("base"))
        .where(*common, ir.timepoint_months == 0)
        .group_by(ir.enrolment_id)
        .subquery()
    )
    last = (
        select(ir.enrolment_id.label("eid"), func.max(ir.timepoint_months).label("tp"))
        .where(*common, ir.timepoint_months > 0)
        .group_by(ir.enrolment_id)
        .subquery()
    )
    follow = (
        select(ir.enrolment_id.label("eid"), func.avg(ir.score).label("follow"))
        .join(last, and_(last.c.eid == ir.enrolment_id, last.c.tp == ir.timepoint_months))
        .where(*common)
        .group_by(ir.enrolment_id)
        .subquery()
    )
    return (
        select(base.c.eid, base.c.base, follow.c.follow).join(follow, follow.c.eid == base.c.eid).subquery()
    )


@dataclass(frozen=True)
class Prefill:
    instrument: str
    quantity: int | None  # the count to pre-fill, None when hidden or not computable
    text: str  # as shown ("<5", "12", "–")
    paired: str  # people with a baseline and a follow-up, as shown
    threshold: float | None  # the reliable-change difference used
    source: str  # where SD1 and r come from


def sroi_prefill(
    principal: Principal,
    start: date,
    end: date,
    *,
    programme_id: int | None = None,
    centre_ids: tuple[int, ...] | None = None,
) -> tuple[Prefill, ...]:
    """Per instrument (UCLA-3, SWEMWBS): enrolments in the period (and programme) whose latest
    follow-up shows a reliable improvement on their baseline (|RC| > 1.96 in the better direction).
    Empty quantities when no SD1 and r are configured or the count is 1..k-1."""
    require_role(principal, *ROLES, action=ACTION)
    chosen = period(start, end)
    return _sroi_prefill(principal, chosen.start, chosen.end, programme_id, centre_ids)


@scoped_cache(ttl_seconds=300)
def _sroi_prefill(
    principal: Principal, start: date, end: date, programme_id: int | None, centre_ids: tuple[int, ...] | None
) -> tuple[Prefill, ...]:
    """Read from the same protected release as Centre outcomes (issue 10: one release per period and
    scope, so the SROI pre-fill can never show a number Centre outcomes hides): the reliable-change
    row of the instrument, with the latest follow-up of each enrolment whose baseline lies in the
    period. The quantity is the published (perturbed) count of people improved, or nothing when that
    cell is hidden there."""
    dashboard_scope(principal, centre_ids, action=ACTION, roles=ROLES)
    code = None
    if programme_id is not None:
        with read_session() as s:
            code = s.exec(select(Programme.code).where(Programme.id == programme_id)).first()
        if code is None:
            raise ValidationError({"programme": ("economics.error.programme", {})})
    board = centre_dashboard(principal, centre_ids, start, end, code, None)
    reliability = configured_reliability()
    paired = {r.score: r for r in board.paired}
    reliable = {r.score: r for r in board.reliable}
    out = []
    for instrument in PREFILL_INSTRUMENTS:
        params = reliability.get(instrument)
        row = reliable.get(instrument)
        if params is None or row is None:
            out.append(Prefill(instrument, None, WITHHELD, paired[instrument].n_followed, None, ""))
            continue
        out.append(
            Prefill(
                instrument,
                int(row.improved) if row.improved.isdigit() else None,
                row.improved,
                row.n,
                minimum_reliable_difference(params.sd1, params.r),
                params.source + ("" if params.verified else " (unverified)"),
            )
        )
    return tuple(out)


# SROI calculator ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeInput:
    """One outcome row as typed (strings or numbers); percentages in percent."""

    name: object = ""
    quantity: object = None
    proxy: object = None
    proxy_source: object = ""
    deadweight: object = 0
    attribution: object = 0
    displacement: object = 0
    drop_off: object = 0
    duration: object = 1


@dataclass(frozen=True)
class SroiInput:
    outcomes: tuple[OutcomeInput, ...]
    investment: object
    discount_rate: object
    horizon: object


@dataclass(frozen=True)
class TornadoBar:
    outcome: str  # "" for the investment and the discount rate
    assumption: str
    low_value: float
    high_value: float
    ratio_at_low: float
    ratio_at_high: float


@dataclass(frozen=True)
class SroiView:
    ratio: float
    total_present_value: float
    investment: float
    net_present_value: float
    low: float  # one-at-a-time range
    high: float
    combined_low: float
    combined_high: float
    outcome_values: tuple[tuple[str, float], ...]
    bars: tuple[TornadoBar, ...]
    assumptions: tuple[tuple[str, str, str], ...]  # (outcome or "", field key, value as text)
    discount_rate: float
    horizon: int


def _number(value: object) -> float | None:
    """A finite number from a number or typed text ("1 200,50" and "1200.5" both work), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
        if not text or text.count(".") > 1:
            return None
        try:
            number = float(text)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _row_is_blank(row: OutcomeInput) -> bool:
    return not _text(row.name) and row.quantity in (None, "") and row.proxy in (None, "")


def validate_sroi(data: SroiInput) -> tuple[list[SroiOutcome], float, float, int]:
    """Check every field; raise ValidationError with one message per bad field, keyed
    `investment`, `discount_rate`, `horizon`, `outcomes` and `o<i>.<field>` (i = row number from 1).
    Rows left wholly blank are skipped."""
    errors: dict[str, tuple[str, dict]] = {}

    def bounded(key: str, value: object, low: float, high: float, *, whole: bool = False) -> float | None:
        number = _number(value)
        if number is None:
            errors[key] = ("economics.error.not_number", {})
            return None
        if whole and number != int(number):
            errors[key] = ("economics.error.whole", {})
            return None
        if not low <= number <= high:
            errors[key] = ("economics.error.range", {"low": money(low), "high": money(high)})
            return None
        return number

    investment = _number(data.investment)
    if investment is None:
        errors["investment"] = ("economics.error.not_number", {})
    elif not 0 < investment <= MAX_INVESTMENT:
        errors["investment"] = ("economics.error.investment", {})
    discount = bounded("discount_rate", data.discount_rate, 0, 100)
    horizon = bounded("horizon", data.horizon, 1, MAX_HORIZON, whole=True)

    rows = [(i, r) for i, r in enumerate(data.outcomes, start=1) if not _row_is_blank(r)]
    if not rows:
        errors["outcomes"] = ("economics.error.no_outcomes", {})
    if len(rows) > MAX_OUTCOMES:
        errors["outcomes"] = ("economics.error.too_many", {"n": MAX_OUTCOMES})
    outcomes: list[SroiOutcome] = []
    seen: set[str] = set()
    for i, r in rows:
        p = f"o{i}."
        name = _text(r.name)
        if not name:
            errors[p + "name"] = ("economics.error.required", {})
        elif len(name) > MAX_TEXT:
            errors[p + "name"] = ("economics.error.too_long", {"n": MAX_TEXT})
        elif name.casefold() in seen:
            errors[p + "name"] = ("economics.error.duplicate", {})
        seen.add(name.casefold())
        source = _text(r.proxy_source)
        if not source:
            errors[p + "proxy_source"] = ("economics.error.source_required", {})
        elif len(source) > MAX_TEXT:
            errors[p + "proxy_source"] = ("economics.error.too_long", {"n": MAX_TEXT})
        values = {
            "quantity": bounded(p + "quantity", r.quantity, 0, MAX_QUANTITY),
            "proxy": bounded(p + "proxy", r.proxy, 0, MAX_PROXY),
            "deadweight": bounded(p + "deadweight", r.deadweight, 0, 100),
            "attribution": bounded(p + "attribution", r.attribution, 0, 100),
            "displacement": bounded(p + "displacement", r.displacement, 0, 100),
            "drop_off": bounded(p + "drop_off", r.drop_off, 0, 100),
            "duration": bounded(p + "duration", r.duration, 1, MAX_HORIZON, whole=True),
        }
        if any(v is None for v in values.values()) or not name or not source:
            continue
        outcomes.append(
            SroiOutcome(
                name=name,
                quantity=values["quantity"],
                proxy_per_unit=values["proxy"],
                proxy_source=source,
                deadweight_pct=values["deadweight"],
                attribution_pct=values["attribution"],
                displacement_pct=values["displacement"],
                drop_off_pct=values["drop_off"],
                duration_years=int(values["duration"]),
            )
        )
    if errors:
        raise ValidationError(errors, key="economics.error.invalid")
    return outcomes, float(investment), float(discount), int(horizon)  # type: ignore[arg-type]


def calculate_sroi(principal: Principal, data: SroiInput) -> SroiView:
    """Validate what the user typed and compute the ratio with its one-at-a-time sensitivity."""
    require_role(principal, *ROLES, action="economics.sroi")
    outcomes, investment, discount, horizon = validate_sroi(data)
    sens = sensitivity(outcomes, investment, discount, horizon)
    base = sens.base
    assumptions: list[tuple[str, str, str]] = []
    for o in outcomes:
        assumptions += [
            (o.name, "quantity", f"{o.quantity:g}"),
            (o.name, "proxy", f"{o.proxy_per_unit:g}"),
            (o.name, "proxy_source", o.proxy_source),
            (o.name, "deadweight", f"{o.deadweight_pct:g}"),
            (o.name, "attribution", f"{o.attribution_pct:g}"),
            (o.name, "displacement", f"{o.displacement_pct:g}"),
            (o.name, "drop_off", f"{o.drop_off_pct:g}"),
            (o.name, "duration", str(o.duration_years)),
        ]
    assumptions += [
        (GLOBAL, "investment", f"{investment:g}"),
        (GLOBAL, "discount_rate", f"{discount:g}"),
        (GLOBAL, "horizon", str(horizon)),
    ]
    return SroiView(
        ratio=base.ratio,
        total_present_value=base.total_present_value,
        investment=base.investment,
        net_present_value=base.net_present_value,
        low=sens.low,
        high=sens.high,
        combined_low=sens.combined_low,
        combined_high=sens.combined_high,
        outcome_values=tuple((v.name, v.present_value) for v in base.outcomes),
        bars=tuple(
            TornadoBar(r.outcome, r.assumption, r.low_value, r.high_value, r.ratio_at_low, r.ratio_at_high)
            for r in sens.rows
        ),
        assumptions=tuple(assumptions),
        discount_rate=discount,
        horizon=horizon,
    )


# QALY ---------------------------------------------------------------------------------------------
#
# Only with a verified EQ-5D-5L value set (LOTSA_EQ5D_VALUE_SET, format in domain.eq5d). The index
# of each eq5d5l response is computed in SQL with one CASE per dimension over the stored answers
# (answers["mobility"] ... as integers; a response with a missing or out-of-range level has no
# index). Pairs as for the SROI quantities: per enrolment in the period, scope (and programme), the
# baseline (time point 0) against the latest follow-up time point (> 0); several responses at one
# time point are averaged. Only count, sums and the sum of squared changes leave the database.
# Means, the 95 % t interval and the QALY gain are shown only from min_n pairs; the pair count goes
# out through count_cell.

QALY_INSTRUMENT = "eq5d5l"


def qaly_value_set() -> str | None:
    """The configured EQ-5D value set file (LOTSA_EQ5D_VALUE_SET), or None. Lotsa ships none."""
    return get_settings().eq5d_value_set or None


@dataclass(frozen=True)
class QalyView:
    country: str
    source: str
    pairs: Figure  # enrolments with a baseline and a follow-up index (count_cell text)
    baseline: Figure  # mean index at baseline
    followup: Figure  # mean index at the latest follow-up
    change: Figure  # mean paired change (follow-up - baseline)
    change_low: float | None  # its 95 % t interval
    change_high: float | None
    qaly_step: Figure  # QALYs gained per person, follow-up index held for the horizon
    qaly_linear: Figure  # QALYs gained per person, linear change over the horizon
    intervals: tuple[tuple[str, str, str, str], ...]  # (change|step|linear, estimate, 95 % low, high)
    horizon: int
    min_n: int


def check_qaly_horizon(value: object) -> int:
    """The QALY horizon in whole years, 1..MAX_HORIZON. Errors name the field `qaly_horizon`."""
    number = _number(value)
    if number is None:
        raise ValidationError({"qaly_horizon": ("economics.error.not_number", {})})
    if number != int(number):
        raise ValidationError({"qaly_horizon": ("economics.error.whole", {})})
    if not 1 <= number <= MAX_HORIZON:
        raise ValidationError({"qaly_horizon": ("economics.error.range", {"low": 1, "high": MAX_HORIZON})})
    return int(number)


def configured_value_set() -> ValueSet | None:
    """The verified value set from LOTSA_EQ5D_VALUE_SET, None when none is configured. A missing,
    malformed or unverified file raises ServiceError `economics.qaly_error.<reason>` (the file and
    the technical detail in its params), so the page can say it in the user's language."""
    path = qaly_value_set()
    if path is None:
        return None
    try:
        return load_value_set(path)
    except ValueSetError as error:
        raise ServiceError(f"economics.qaly_error.{error.reason}", file=path, detail=str(error)) from error


def eq5d_index_sql(vs: ValueSet):
    """The EQ-5D-5L index of an InstrumentResponse row as a SQL expression: 1 - constant when any
    level is above 1 - one CASE per dimension (NULL when a level is missing or not 1..5)."""
    answers = InstrumentResponse.answers
    level = {d: answers[d].as_integer() for d in EQ5D_DIMENSIONS}
    expr = literal(1.0, Float) - case((or_(*(level[d] > 1 for d in EQ5D_DIMENSIONS)), vs.constant), else_=0.0)
    for d in EQ5D_DIMENSIONS:
        expr = expr - case(*((level[d] == i, dec) for i, dec in enumerate(vs.levels(d), start=1)), else_=None)
    return expr


def _paired_index(vs: ValueSet, enrolments):
    """A subquery (eid, base, follow) of EQ-5D indexes, paired as `paired_scores` pairs scores."""
    ir = InstrumentResponse
    value = eq5d_index_sql(vs)
    common = (ir.instrument == QALY_INSTRUMENT, col(ir.enrolment_id).in_(enrolments))
    base = (
        select(ir.enrolment_id.label("eid"), func.avg(value).label("base"))
        .where(*common, ir.timepoint_months == 0)
        .group_by(ir.enrolment_id)
        .subquery()
    )
    scored = (
        select(ir.enrolment_id.label("eid"), ir.timepoint_months.label("tp"), value.label("v"))
        .where(*common, ir.timepoint_months > 0)
        .subquery()
    )
    last = (
        select(scored.c.eid, func.max(scored.c.tp).label("tp"))
        .where(scored.c.v.is_not(None))
        .group_by(scored.c.eid)
        .subquery()
    )
    follow = (
        select(scored.c.eid, func.avg(scored.c.v).label("follow"))
        .join(last, and_(last.c.eid == scored.c.eid, last.c.tp == scored.c.tp))
        .group_by(scored.c.eid)
        .subquery()
    )
    return (
        select(base.c.eid, base.c.base, follow.c.follow)
        .join(follow, follow.c.eid == base.c.eid)
        .where(base.c.base.is_not(None))
        .subquery()
    )


def qaly_change(
    principal: Principal,
    start: date,
    end: date,
    programme: int | None = None,
    centre_ids: tuple[int, ...] | None = None,
    *,
    horizon: object = 1,
) -> QalyView | None:
    """Paired change of the EQ-5D-5L index and the QALY gain per person over `horizon` years (step
    change and linear), for enrolments in the period, the manager's centres (and the programme).
    None when no value set is configured; ServiceError when the configured file cannot be used."""
    require_role(principal, *ROLES, action=ACTION)
    chosen = period(start, end)
    years = check_qaly_horizon(horizon)
    if programme is not None and (isinstance(programme, bool) or not isinstance(programme, int)):
        raise ValidationError({"programme": ("economics.error.programme", {})})
    vs = configured_value_set()
    # the value set and the rules are part of the cache key: a changed file or threshold is used at once
    return _qaly_change(
        principal, chosen.start, chosen.end, programme, centre_ids, vs, years, disclosure_rules()
    )


@scoped_cache(ttl_seconds=300)
def _qaly_change(
    principal: Principal,
    start: date,
    end: date,
    programme: int | None,
    centre_ids: tuple[int, ...] | None,
    vs: ValueSet | None,
    years: int,
    rules: DisclosureRules,
) -> QalyView | None:
    centres = dashboard_scope(principal, centre_ids, action=ACTION, roles=ROLES)
    if vs is None:
        return None
    enrolments = select(Enrolment.id).where(
        col(Enrolment.centre_id).in_(centres), Enrolment.enrolled_on >= start, Enrolment.enrolled_on <= end
    )
    if programme is not None:
        enrolments = enrolments.where(Enrolment.programme_id == programme)
    source = _hash_text(vs.source)
    cell = f"qaly:{programme}:{vs.country}:{source}:{years}:k{rules.k}:n{rules.min_n_for_rates}"
    return released(
        period(start, end),
        release_scope_key("c", centres),
        cell,
        lambda: _compute_qaly(centres, enrolments, vs, years, rules),
    )


def _hash_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _compute_qaly(centres, enrolments, vs: ValueSet, years: int, rules: DisclosureRules) -> QalyView:
    n, sum_base, sum_follow, sum_d, sum_d2, key_sum = 0, 0.0, 0.0, 0.0, 0.0, 0
    if centres:
        pairs = _paired_index(vs, enrolments)
        d = pairs.c.follow - pairs.c.base
        with read_session() as s:
            row = s.exec(
                select(
                    func.count(),
                    func.sum(pairs.c.base),
                    func.sum(pairs.c.follow),
                    func.sum(d),
                    func.sum(d * d),
                    func.coalesce(func.sum(Patient.record_key), 0),
                )
                .select_from(pairs)
                .join(Enrolment, Enrolment.id == pairs.c.eid)
                .join(Patient, Patient.id == Enrolment.patient_id)
            ).one()
        n, key_sum = int(row[0] or 0), int(row[5] or 0)
        sum_base, sum_follow, sum_d, sum_d2 = (float(v or 0.0) for v in row[1:5])
    shown = n >= 2 and protect_mean(n, sum_d / n, rules) is not None  # min_n is at least 3

    def fig(key: str, value: float | None, text: str | None = None) -> Figure:
        return Figure(
            key,
            WITHHELD if value is None else (text or f"{value:.3f}"),
            None if value is None else round(value, 4),
            f"economics.def.qaly_{key}",
        )

    mean_base = mean_follow = change = low = high = step = linear = None
    intervals: tuple[tuple[str, str, str, str], ...] = ()
    if shown:
        mean_base, mean_follow = sum_base / n, sum_follow / n
        change, low, high = t_interval(n, sum_d, sum_d2)
        step = qaly_gain(min(mean_base, 1.0), min(mean_follow, 1.0), years)
        linear = qaly_gain(min(mean_base, 1.0), min(mean_follow, 1.0), years, linear=True)
        # QALYs per unit of index change, from the same formula, for the interval of the gain
        per_step = qaly_gain(0.0, 1.0, years)
        per_linear = qaly_gain(0.0, 1.0, years, linear=True)
        intervals = tuple(
            (key, f"{v:+.3f}", f"{lo:+.3f}", f"{hi:+.3f}")
            for key, v, lo, hi in (
                ("change", change, low, high),
                ("step", step, low * per_step, high * per_step),
                ("linear", linear, low * per_linear, high * per_linear),
            )
        )
    return QalyView(
        country=vs.country,
        source=vs.source,
        pairs=Figure(
            "pairs",
            published_count(n, key_sum, rules)[0],
            None
            if published_count(n, key_sum, rules)[1] is None
            else float(published_count(n, key_sum, rules)[1]),
            "economics.def.qaly_pairs",
        ),
        baseline=fig("baseline", mean_base),
        followup=fig("followup", mean_follow),
        change=fig("change", change, None if change is None else f"{change:+.3f}"),
        change_low=low,
        change_high=high,
        qaly_step=fig("step", step, None if step is None else f"{step:+.3f}"),
        qaly_linear=fig("linear", linear, None if linear is None else f"{linear:+.3f}"),
        intervals=intervals,
        horizon=years,
        min_n=rules.min_n_for_rates,
    )
