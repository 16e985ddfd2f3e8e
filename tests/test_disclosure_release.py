"""Issue 10 on Evaluation, Compare, Gaps and Health economics, and the protected release.

Differencing: on each page "the year minus its first quarter" is meant to give a small group of 3
(everything else happened in February); "a manager's whole scope minus one centre" on Health
economics and Gaps, and across pages Evaluation's year minus Health economics' first quarter, too.
With the cell-key perturbation the attacker's difference is rarely right and rarely pinned (over
many record-key draws); against a planted leak (perturbation off) every attack gives 3 with
certainty, so the checks can fail.

Release: a closed period's published cells do not move after a back-dated change (so they cannot be
differenced), every page and the HTML report show the same cell alike, the open period is computed
live (provisional), and concurrent first views agree on one stored release (insert if absent).
"""

from __future__ import annotations

import random
import threading
from datetime import date

import pytest
from sqlalchemy import delete, func
from sqlmodel import select

import domain.cellkey as cellkey
from db.engine import read_session, write_session
from db.models import (
    ArmAllocation,
    DisclosureRelease,
    Enrolment,
    FollowUp,
    InstrumentResponse,
    Patient,
    Programme,
    UnmetNeed,
)
from services.auth import principal_for
from services.compare import compare_centres
from services.dashboards import Period, clear_caches, is_provisional, released, reporting_period
from services.evaluation import evaluation
from services.gaps import gaps
from services.health_economics import programme_costs
from services.outcomes import centre_dashboard
from services.report import centre_report_html
from tests.factories import make_user, make_world
from tests.test_disclosure_attacks import _screen_only

YEAR = (date(2025, 1, 1), date(2025, 12, 31))
Q1 = (date(2025, 1, 1), date(2025, 3, 31))
FEB, JUNE = date(2025, 2, 3), date(2025, 6, 2)
BIG, SMALL = 20, 3
TRIALS = 12
K = 5


def _plant(w) -> int:
    """At centre A (municipality Malmö): 20 people enrolled in February and 3 in June in a programme
    with arms (each with a UCLA-3 baseline and a completed follow-up due in the same month), and 20
    unmet needs recorded in February and 3 in June. Returns the programme id."""
    with write_session() as s:
        programme = Programme(
            code="arms",
            name_sv="A",
            name_da="A",
            name_en="A",
            timepoints=[0, 6],
            arms=["coaching", "control"],
        )
        s.add(programme)
        s.flush()
        serial = 0
        for day, n in ((FEB, BIG), (JUNE, SMALL)):
            for _ in range(n):
                serial += 1
                p = Patient(pseudonym=f"R{serial:04d}", centre_id=w.centre_a)
                s.add(p)
                s.flush()
                e = Enrolment(
                    patient_id=p.id,
                    programme_id=programme.id,
                    centre_id=w.centre_a,
                    enrolled_on=day,
                    arm="coaching",
                )
                s.add(e)
                s.flush()
                s.add(
                    ArmAllocation(
                        programme_id=programme.id, sequence_no=serial, arm="coaching", enrolment_id=e.id
                    )
                )
                s.add(
                    InstrumentResponse(
                        patient_id=p.id, centre_id=w.centre_a, enrolment_id=e.id, instrument="ucla3",
                        administered_on=day, timepoint_months=0, answers={}, total=6, score=6,
                    )
                )  # fmt: skip
                s.add(
                    FollowUp(
                        enrolment_id=e.id, patient_id=p.id, centre_id=w.centre_a, timepoint_months=6,
                        due_on=day, status="completed", completed_on=day,
                    )
                )  # fmt: skip
                s.add(
                    UnmetNeed(
                        centre_id=w.centre_a, municipality_id=_muni(s, w), need="loneliness", recorded_on=day
                    )
                )
        # centre B (municipality Lund): 3 people enrolled and 3 unmet needs in February
        for i in range(SMALL):
            p = Patient(pseudonym=f"B{i:04d}", centre_id=w.centre_b)
            s.add(p)
            s.flush()
            s.add(
                Enrolment(
                    patient_id=p.id,
                    programme_id=programme.id,
                    centre_id=w.centre_b,
                    enrolled_on=FEB,
                    arm="coaching",
                )
            )
            s.add(
                UnmetNeed(
                    centre_id=w.centre_b,
                    municipality_id=_muni(s, w, w.centre_b),
                    need="loneliness",
                    recorded_on=FEB,
                )
            )
        return int(programme.id)


def _muni(s, w, centre: int | None = None) -> int:
    from db.models import HealthCentre

    return int(s.get(HealthCentre, centre or w.centre_a).municipality_id)


def _value(text: str) -> int:
    assert text.isdigit(), text
    return int(text)


def _attacks(w, pid) -> dict[str, int]:
    """Each page's "year minus Q1", meant to give the 3 people of June; the whole scope of a manager
    of A and B minus centre A, meant to give B's 3; and across pages, Evaluation's year minus Health
    economics' first quarter (the same enrolments), meant to give June's 3."""
    manager = w.principals["manager"]
    region = w.principals["region"]

    def assessed(span):
        view = evaluation(manager, pid, *span)
        return _value(next(s for s in view.flow if s.key == "assessed").total)

    def followups_due(span):
        view = compare_centres(manager, *span)
        fig = next(f for f in view.centres[0].figures if f.key == "followup_completion")
        return _value(fig.denominator_text)

    def unmet(span):
        return _value(gaps(manager, *span).unmet_total)

    def participants(span):
        return _value(programme_costs(manager, *span).total.participants.text)

    out = {
        name: fn(YEAR) - fn(Q1)
        for name, fn in (
            ("evaluation assessed", assessed),
            ("compare follow-ups due", followups_due),
            ("gaps unmet needs", unmet),
            ("economics participants", participants),
        )
    }
    out["economics whole minus centre A"] = _value(
        programme_costs(region, *YEAR).total.participants.text
    ) - _value(programme_costs(region, *YEAR, centre_ids=(w.centre_a,)).total.participants.text)
    out["gaps whole minus centre A"] = _value(gaps(region, *YEAR).unmet_total) - _value(
        gaps(region, *YEAR, (w.centre_a,)).unmet_total
    )
    out["cross-page evaluation year minus economics Q1"] = assessed(YEAR) - participants(Q1)
    return out


def _rekey(seed: int) -> None:
    rng = random.Random(seed)
    with write_session() as s:
        for p in s.exec(select(Patient).order_by(Patient.id)).all():
            p.record_key = rng.randrange(cellkey.RECORD_KEY_RANGE)
            s.add(p)
        # unmet needs have no person: their keys come from their ids, so move the ids
        needs = s.exec(select(UnmetNeed).order_by(UnmetNeed.id)).all()
        shift = rng.randrange(1, 10**6)
        rows = [
            dict(
                centre_id=n.centre_id,
                municipality_id=n.municipality_id,
                need=n.need,
                recorded_on=n.recorded_on,
            )
            for n in needs
        ]
        s.execute(delete(UnmetNeed))
        for i, row in enumerate(rows):
            s.add(UnmetNeed(id=shift + i * rng.randrange(1, 1000), **row))
        s.execute(delete(DisclosureRelease))
    from services.summaries import refresh_summaries

    refresh_summaries()
    clear_caches()


def _pinned(derived: int) -> bool:
    d = cellkey.MAX_PERTURBATION
    return len({derived + e for e in range(-2 * d, 2 * d + 1)} & set(range(1, K))) == 1


def _run(w, pid) -> dict[str, tuple[float, float]]:
    hits: dict[str, list[bool]] = {}
    pins: dict[str, list[bool]] = {}
    for seed in range(TRIALS):
        _rekey(seed)
        for name, derived in _attacks(w, pid).items():
            hits.setdefault(name, []).append(derived == SMALL)
            pins.setdefault(name, []).append(_pinned(derived) and derived == SMALL)
    return {n: (sum(hits[n]) / TRIALS, sum(pins[n]) / TRIALS) for n in hits}


@pytest.fixture
def planted(db_url):
    w = make_world()
    with write_session() as s:
        region = principal_for(s, make_user(s, "t-region", "manager", centres=[w.centre_a, w.centre_b]))
    w.principals["region"] = region
    return w, _plant(w)


def test_differencing_on_every_other_page_gives_noise(planted):
    w, pid = planted
    for name, (hit_rate, pin_rate) in _run(w, pid).items():
        assert hit_rate <= 0.6, (name, hit_rate)
        assert pin_rate <= 0.2, (name, pin_rate)


def test_differencing_works_against_a_planted_leak(planted, monkeypatch):
    monkeypatch.setattr(cellkey, "MAX_PERTURBATION", 0)
    w, pid = planted
    results = _run(w, pid)
    assert set(results) == {
        "evaluation assessed",
        "compare follow-ups due",
        "gaps unmet needs",
        "economics participants",
        "economics whole minus centre A",
        "gaps whole minus centre A",
        "cross-page evaluation year minus economics Q1",
    }
    assert all(r == (1.0, 1.0) for r in results.values()), results


# The protected release -----------------------------------------------------------------------------


def _release_rows() -> int:
    with read_session() as s:
        return int(s.exec(select(func.count()).select_from(DisclosureRelease)).one())


def test_a_closed_period_does_not_move_after_a_back_dated_change(db_url):
    w = make_world()
    manager = w.principals["manager"]
    _screen_only(w.centre_a, 12, FEB, "S")
    before = centre_dashboard(manager, None, *YEAR).figure("screened").text
    html_before = centre_report_html(manager, None, *YEAR, None, "en")
    assert _release_rows() >= 1
    _screen_only(w.centre_a, 3, JUNE, "L")  # back-dated: into the closed year
    clear_caches()
    after = centre_dashboard(manager, None, *YEAR).figure("screened")
    assert after.text == before  # the release, not the new data: nothing to difference
    assert f">{before}<" in html_before and f">{before}<" in centre_report_html(
        manager, None, *YEAR, None, "en"
    )


def test_a_planted_leak_without_the_release_moves(db_url, monkeypatch):
    """Without the release (every view computed live) the same back-dated change moves the cell."""
    monkeypatch.setattr(cellkey, "MAX_PERTURBATION", 0)
    monkeypatch.setattr("services.outcomes.released", lambda chosen, scope, cell, compute: compute())
    w = make_world()
    manager = w.principals["manager"]
    _screen_only(w.centre_a, 12, FEB, "S")
    before = centre_dashboard(manager, None, *YEAR).figure("screened").text
    _screen_only(w.centre_a, 3, JUNE, "L")
    clear_caches()
    assert int(centre_dashboard(manager, None, *YEAR).figure("screened").text) - int(before) == 3


def test_the_open_period_is_computed_live_and_provisional(db_url):
    w = make_world()
    manager = w.principals["manager"]
    today = date.today()
    current = reporting_period("year", today.year)
    assert is_provisional(current) and not is_provisional(reporting_period("year", 2025))
    _screen_only(w.centre_a, 12, current.start, "S")
    centre_dashboard(manager, None, current.start, current.end)
    assert _release_rows() == 0  # nothing stored while the period is open


def test_the_same_cell_reads_alike_on_every_page_that_shows_it(planted):
    """Economics shows a programme's participants in the list and alone; Evaluation's allocated
    total counts the same enrolments (one allocation each): the list, the one-programme view and a
    second visit after a back-dated change all read one release."""
    w, pid = planted
    manager = w.principals["manager"]
    listed = {r.programme.id: r.participants.text for r in programme_costs(manager, *YEAR).rows}[pid]
    alone = programme_costs(manager, *YEAR, programme_id=pid).rows[0].participants.text
    assert listed == alone
    with write_session() as s:
        p = Patient(pseudonym="LATE", centre_id=w.centre_a)
        s.add(p)
        s.flush()
        s.add(
            Enrolment(
                patient_id=p.id, programme_id=pid, centre_id=w.centre_a, enrolled_on=JUNE, arm="coaching"
            )
        )
    clear_caches()
    assert programme_costs(manager, *YEAR, programme_id=pid).rows[0].participants.text == listed
    assert {r.programme.id: r.participants.text for r in programme_costs(manager, *YEAR).rows}[pid] == listed


def test_concurrent_first_views_agree_on_one_release(db_url):
    """Eight threads publish the same closed cell at once, each computing a different value (as if
    the data changed between them): all read back the first writer's value, and one row is stored."""
    chosen = Period(date(2025, 1, 1), date(2025, 3, 31))
    results: list[int] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        barrier.wait()
        results.append(released(chosen, "c:1", "race", lambda: i))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and len(set(results)) == 1
    with read_session() as s:
        rows = s.exec(select(DisclosureRelease.payload).where(DisclosureRelease.cell == "race")).all()
    assert len(rows) == 1


def test_release_payload_rebuilds_only_service_and_domain_classes(db_url):
    import json

    from services.dashboards import _decode

    with pytest.raises(ValueError):
        _decode(json.loads('{"__dc__": "os:system", "f": {}}'))


def test_the_report_says_when_its_period_is_provisional(db_url):
    from locales import translate

    w = make_world()
    manager = w.principals["manager"]
    note = translate("dashboard.provisional", "en")
    current = reporting_period("year", date.today().year)
    assert note in centre_report_html(manager, None, current.start, current.end, None, "en")
    assert note not in centre_report_html(manager, None, *YEAR, None, "en")


def test_a_release_of_another_shape_is_shown_live_not_as_an_error(db_url):
    """A release written by an older version (other fields) does not break the page."""
    import json

    from services.dashboards import _insert_release

    chosen = Period(date(2025, 1, 1), date(2025, 3, 31))
    old = {"__dc__": "services.dashboards:Figure", "f": {"key": "x", "text": "7"}}
    _insert_release(chosen.code(), "c:1", "shape", json.dumps(old))
    assert released(chosen, "c:1", "shape", lambda: 42) == 42
