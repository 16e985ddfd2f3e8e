"""Paired outcome scores kept by triggers (issue 12, db/outcome_pairs.py): `outcome_pair` must
always equal the pairs worked out by hand from `instrument_response`, through every kind of write
(the screening and follow-up services, a programme change that moves answers, a corrected score, a
deleted answer or enrolment, demo data, a bulk synthetic load, a migration of existing data), on
SQLite and Postgres; two writers answering for one enrolment at once both succeed; and the Centre
outcomes dashboard reads its paired change from the table alone, by its index."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import event, text
from sqlmodel import select

from db import outcome_pairs
from db.engine import get_engine, read_session, write_session
from db.migrate import upgrade
from db.models import Enrolment, InstrumentResponse, OutcomePair, Patient
from domain.instruments import SWEMWBS_ITEMS
from services import followup, outcomes, screening
from services.dashboards import period
from tests.test_followup import UCLA3, build_world


def _value(row: InstrumentResponse, score: str) -> float | None:
    instrument, item = outcome_pairs.SCORES[score]
    if row.instrument != instrument:
        return None
    if item is None:
        return row.score
    found = (row.subscales or {}).get(item)
    return None if found is None else float(found)


def reference_pairs() -> dict[tuple[int, str], tuple]:
    """The pairs by their definition, in Python from every response of an enrolment."""
    with read_session() as s:
        rows = s.exec(select(InstrumentResponse).where(InstrumentResponse.enrolment_id.is_not(None))).all()
        programme = dict(s.exec(select(Enrolment.id, Enrolment.programme_id)).all())
        record_key = dict(s.exec(select(Patient.id, Patient.record_key)).all())
    out = {}
    for score in outcome_pairs.SCORES:
        by_enrolment: dict[int, list[tuple[int, int, float, InstrumentResponse]]] = {}
        for row in rows:
            value = _value(row, score)
            if value is not None and row.timepoint_months is not None:
                by_enrolment.setdefault(row.enrolment_id, []).append(
                    (row.timepoint_months, row.id, value, row)
                )
        for eid, answers in by_enrolment.items():
            baselines = sorted((rid, value, row) for tp, rid, value, row in answers if tp == 0)
            if not baselines:
                continue
            _, base_value, base = baselines[0]

            def first_at(tp_wanted: int, answers=answers) -> float | None:
                found = sorted((rid, value) for tp, rid, value, _ in answers if tp == tp_wanted)
                return found[0][1] if found else None

            later = [tp for tp, *_ in answers if tp > 0]
            out[(eid, score)] = (
                base.patient_id,
                base.centre_id,
                programme[eid],
                base.administered_on,
                round(base_value, 6),
                record_key[base.patient_id],
                *(None if (v := first_at(t)) is None else round(v, 6) for t in (3, 6, 12)),
                None if not later else round(first_at(max(later)), 6),
            )
    return out


def stored_pairs() -> dict[tuple[int, str], tuple]:
    def r(v):
        return None if v is None else round(v, 6)

    with read_session() as s:
        rows = s.exec(select(OutcomePair)).all()
    return {
        (p.enrolment_id, p.score): (
            p.patient_id,
            p.centre_id,
            p.programme_id,
            p.baseline_on,
            r(p.baseline),
            p.record_key,
            r(p.at3),
            r(p.at6),
            r(p.at12),
            r(p.latest),
        )
        for p in rows
    }


def assert_exact() -> int:
    expected = stored = None
    expected, stored = reference_pairs(), stored_pairs()
    assert stored == expected
    return len(stored)


@pytest.fixture
def world(db_url):
    return build_world()


def _respond(world, eid: int, months: int, on: date, answers=UCLA3, instrument="ucla3"):
    return screening.record_response(
        world.connector,
        patient_id=world.patient,
        instrument=instrument,
        answers=answers,
        administered_on=on,
        enrolment_id=eid,
        timepoint_months=months,
    )


def test_every_write_through_the_services_keeps_the_pairs_exact(world):
    start = date.today() - timedelta(days=200)
    view = followup.enrol(world.connector, patient_id=world.patient, programme_code="social_prescribing")
    assert assert_exact() == 0
    base = _respond(world, view.id, 0, start, answers={"companionship": 3, "left_out": 3, "isolated": 3})
    assert assert_exact() == 1
    with read_session() as s:
        pair = s.get(OutcomePair, (view.id, "ucla3"))
    assert (pair.baseline, pair.latest, pair.centre_id, pair.baseline_on) == (
        9.0,
        None,
        world.w.centre_a,
        start,
    )
    _respond(
        world,
        view.id,
        3,
        start + timedelta(days=92),
        answers={"companionship": 2, "left_out": 2, "isolated": 2},
    )
    _respond(
        world,
        view.id,
        6,
        start + timedelta(days=183),
        answers={"companionship": 1, "left_out": 2, "isolated": 1},
    )
    # a second baseline answer (a re-done form) does not replace the first
    _respond(
        world,
        view.id,
        0,
        start + timedelta(days=1),
        answers={"companionship": 1, "left_out": 1, "isolated": 1},
    )
    assert assert_exact() == 1
    with read_session() as s:
        pair = s.get(OutcomePair, (view.id, "ucla3"))
    assert (pair.baseline, pair.at3, pair.at6, pair.latest) == (9.0, 6.0, 4.0, 4.0)
    # SWEMWBS and the ONS4 items pair on their own
    swemwbs = dict.fromkeys(SWEMWBS_ITEMS, 3)
    _respond(world, view.id, 0, start, answers=swemwbs, instrument="swemwbs")
    _respond(
        world,
        view.id,
        3,
        start + timedelta(days=92),
        answers=dict.fromkeys(SWEMWBS_ITEMS, 4),
        instrument="swemwbs",
    )
    ons4 = {"satisfied": 4, "worthwhile": 5, "happy": 3, "anxious": 8}
    _respond(world, view.id, 0, start, answers=ons4, instrument="ons4")
    _respond(world, view.id, 6, start + timedelta(days=183), answers={**ons4, "happy": 7}, instrument="ons4")
    assert assert_exact() == 6  # ucla3, swemwbs and four ONS4 items
    with read_session() as s:
        happy = s.get(OutcomePair, (view.id, "ons4.happy"))
    assert (happy.baseline, happy.at3, happy.at6, happy.latest) == (3.0, None, 7.0, 7.0)
    # a corrected score, then the baseline deleted: the next baseline answer takes its place
    with write_session() as s:
        s.exec(text("UPDATE instrument_response SET score = 8 WHERE id = :id").bindparams(id=base.id))
    assert assert_exact() == 6
    with write_session() as s:
        s.exec(text("DELETE FROM instrument_response WHERE id = :id").bindparams(id=base.id))
    assert assert_exact() == 6
    with read_session() as s:
        assert s.get(OutcomePair, (view.id, "ucla3")).baseline == 3.0


def test_a_programme_change_moves_the_pairs_with_the_answers(world):
    made_on = date.today() - timedelta(days=20)
    view = followup.enrol(world.connector, patient_id=world.patient, programme_code="social_prescribing")
    _respond(world, view.id, 0, made_on)
    changed = followup.change_programme(world.connector, view.id, "samverkansmodell")
    assert assert_exact() == 1
    with read_session() as s:
        assert s.get(OutcomePair, (view.id, "ucla3")) is None
        moved = s.get(OutcomePair, (changed.id, "ucla3"))
        programme_id = s.get(Enrolment, changed.id).programme_id
    assert (moved.programme_id, moved.baseline_on) == (programme_id, made_on)
    with write_session() as s:  # erasing the enrolment (and its answers) leaves no pair behind
        s.exec(text("DELETE FROM instrument_response WHERE enrolment_id = :id").bindparams(id=changed.id))
        s.exec(text("DELETE FROM follow_up WHERE enrolment_id = :id").bindparams(id=changed.id))
    assert assert_exact() == 0


def test_demo_data_pairs_match_the_definition(db_url, monkeypatch):
    from db.demo import seed_demo

    monkeypatch.setenv("LOTSA_DEMO", "1")
    seed_demo()
    assert assert_exact() > 100


def test_a_bulk_load_rebuilds_the_pairs_and_restores_the_triggers(db_url, monkeypatch):
    from db import synthetic

    synthetic.generate("clinic", db_url)
    assert assert_exact() > 1000
    assert _trigger_count(db_url) == _expected_triggers(db_url)


def test_a_failed_bulk_load_still_leaves_the_triggers(db_url, monkeypatch):
    from db import synthetic

    def broken(self, group):
        raise RuntimeError("disk full")

    monkeypatch.setattr(synthetic._Generator, "patients", broken)
    with pytest.raises(RuntimeError):
        synthetic.generate("clinic", db_url)
    assert _trigger_count(db_url) == _expected_triggers(db_url)


def _expected_triggers(db_url: str) -> int:
    return len(
        outcome_pairs.PG_TRIGGERS if db_url.startswith("postgresql") else outcome_pairs.SQLITE_TRIGGERS
    )


def _trigger_count(db_url: str) -> int:
    if db_url.startswith("postgresql"):
        sql = (
            "SELECT count(DISTINCT trigger_name) FROM information_schema.triggers"
            " WHERE trigger_name LIKE 'outcome_pair%'"
        )
    else:
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'outcome_pair%'"
    with read_session() as s:
        return s.exec(text(sql)).one()[0]


def test_the_migration_pairs_the_answers_already_stored(tmp_path, monkeypatch):
    from db.demo import seed_demo
    from db.engine import dispose_all

    url = f"sqlite:///{tmp_path / 'old.db'}"
    monkeypatch.setenv("LOTSA_DB_URL", url)
    monkeypatch.setenv("LOTSA_DEMO", "1")
    upgrade(url, "0014")
    seed_demo(url)  # written before the table and its triggers existed
    dispose_all()
    upgrade(url)
    assert assert_exact() > 100


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_writers_answering_for_one_enrolment_at_once_both_succeed(world):
    """Without the enrolment lock neither sees the other's answer: the second pairs nothing (the
    first's baseline is not committed yet) and the first stores a pair without the follow-up."""
    view = followup.enrol(world.connector, patient_id=world.patient, programme_code="social_prescribing")
    with read_session() as s:
        patient = s.get(Patient, world.patient)
    on = date.today() - timedelta(days=100)
    insert = text(
        "INSERT INTO instrument_response (patient_id, centre_id, enrolment_id, instrument, administered_on,"
        " timepoint_months, answers, total, score, subscales, created_at)"
        " VALUES (:p, :c, :e, 'ucla3', :on, :tp, '{}', :v, :v, '{}', now())"
    )
    engine = get_engine()
    first_inserted, errors = threading.Event(), []

    def second():
        try:
            with engine.begin() as conn:
                first_inserted.wait(10)
                conn.execute(
                    insert, {"p": patient.id, "c": patient.centre_id, "e": view.id, "on": on, "tp": 3, "v": 5}
                )
        except Exception as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    with engine.begin() as conn:
        conn.execute(
            insert, {"p": patient.id, "c": patient.centre_id, "e": view.id, "on": on, "tp": 0, "v": 8}
        )
        first_inserted.set()
        thread.join(1.0)  # the second writer answers meanwhile (and waits on the enrolment's lock)
    thread.join(10)
    assert errors == []
    assert assert_exact() == 1
    with read_session() as s:
        pair = s.get(OutcomePair, (view.id, "ucla3"))
    assert (pair.baseline, pair.at3) == (8.0, 5.0)


def test_the_dashboard_reads_paired_change_from_the_pairs_by_their_index(db_url, monkeypatch):
    from db.demo import seed_demo

    monkeypatch.setenv("LOTSA_DEMO", "1")
    seed_demo()
    engine = get_engine()
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "outcome_pair" in statement:
            seen.append((statement, parameters))

    with read_session() as s:
        centres = tuple(s.exec(select(Patient.centre_id).distinct()).all())
    event.listen(engine, "before_cursor_execute", capture)
    try:
        with read_session() as s:
            query = outcomes._Queries(
                s,
                centres,
                period(date(date.today().year, 1, 1), date(date.today().year, 12, 31)),
                None,
                outcomes.disclosure_rules(),
                6,
                date.today(),
            )
            sums = query.paired(None, outcomes.configured_reliability())
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert [statement for statement, _ in seen if "instrument_response" in statement] == []
    assert sum(v["n_baseline"] for v in sums.values()) > 0
    [(statement, parameters)] = seen
    with engine.connect() as conn:
        if db_url.startswith("postgresql"):
            return  # a small table: Postgres rightly scans it; the plan matters at region size
        plan = " ".join(
            str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        )
    assert "ix_outcome_pair_scope" in plan, plan
