"""Follow-up after a referral (issue 12): the programme can still be changed, and a questionnaire
saved incomplete (with a reason, no total) is not an answered one: its follow-up stays due."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from db.engine import read_session, write_session
from db.models import Enrolment, FollowUp, InstrumentResponse, Referral
from domain import programmes as prog
from locales import translate
from services import followup, screening
from services.dashboards import period
from services.errors import AccessDenied, ValidationError
from tests.test_followup import UCLA3, _consent_to_referral, _refer, _screen, app, build_world, events, texts


@pytest.fixture
def world(db_url):
    return build_world()


def _respond(world, enrolment_id: int, months: int, **kw):
    return screening.record_response(
        world.connector,
        patient_id=world.patient,
        instrument="ucla3",
        enrolment_id=enrolment_id,
        timepoint_months=months,
        **kw,
    )


def test_an_incomplete_questionnaire_is_not_answered_and_the_follow_up_stays_due(world):
    view = followup.enrol(world.connector, patient_id=world.patient, programme_code="social_prescribing")
    baseline = view.follow_ups[0]
    _respond(world, view.id, 0, answers={"companionship": 3}, incomplete_reason="out_of_time")
    detail = followup.follow_up_detail(world.connector, baseline.id)
    assert "ucla3" not in detail.done_instruments
    work = followup.worklist(world.connector)
    assert [(r.patient_id, r.timepoint_months) for r in work.due_today] == [(world.patient, 0)]
    # A complete one is answered.
    _respond(world, view.id, 0, answers=UCLA3)
    assert "ucla3" in followup.follow_up_detail(world.connector, baseline.id).done_instruments


def test_the_programme_can_be_changed_after_a_referral(world):
    _consent_to_referral(world.patient)
    screened_on = date.today() - timedelta(days=10)
    first = _screen(world, screened_on)
    made = _refer(world)
    old_id = made.follow_up.enrolment_id
    assert made.follow_up.programme_code == "social_prescribing"

    changed = followup.change_programme(world.connector, old_id, "samverkansmodell")
    assert changed.programme_code == "samverkansmodell" and changed.id != old_id
    assert changed.enrolled_on == screened_on  # the schedule still counts from the baseline
    with read_session() as s:
        assert s.get(Enrolment, old_id).status == "moved"
        new = s.get(Enrolment, changed.id)
        assert new.status == "active" and new.arm in ("coaching", "control")
        assert s.get(InstrumentResponse, first.id).enrolment_id == new.id  # the baseline moves along
        assert s.get(Referral, made.id).enrolment_id == new.id
        lines = s.exec(
            select(FollowUp.timepoint_months, FollowUp.due_on, FollowUp.status)
            .where(FollowUp.enrolment_id == new.id)
            .order_by(FollowUp.timepoint_months)
        ).all()
    assert [tuple(x) for x in lines] == [
        (0, screened_on, "completed"),
        (6, prog.add_months(screened_on, 6), "due"),
        (12, prog.add_months(screened_on, 12), "due"),
        (36, prog.add_months(screened_on, 36), "due"),
    ]
    # The worklist follows the new programme only.
    work = followup.worklist(world.connector, today=prog.add_months(screened_on, 3))
    assert work.due_today == () and work.overdue == ()
    work = followup.worklist(world.connector, today=prog.add_months(screened_on, 6))
    assert [(r.programme_code, r.timepoint_months) for r in work.due_today] == [("samverkansmodell", 6)]
    plan = followup.referral_plan(world.connector, world.patient)
    assert [e.programme_code for e in plan.active] == ["samverkansmodell"]
    [event] = events("enrolment.change")
    assert event.patient_pseudonym == "PAAAAAAAA1" and "social_prescribing" in event.detail


def test_changing_the_programme_is_validated_and_scoped(world):
    _consent_to_referral(world.patient)
    made = _refer(world)
    eid = made.follow_up.enrolment_id
    with pytest.raises(ValidationError) as err:
        followup.change_programme(world.connector, eid, "social_prescribing")
    assert err.value.fields == {"programme_code": ("error.followup_same_programme", {})}
    with pytest.raises(ValidationError) as err:
        followup.change_programme(world.connector, eid, "no_such_programme")
    assert err.value.fields == {"programme_code": ("error.invalid_choice", {})}
    with pytest.raises(AccessDenied):
        followup.change_programme(world.connector_b, eid, "samverkansmodell")
    assert events("enrolment.change", "denied")
    # Once a later follow-up is done the programme has data of its own: no change any more.
    with write_session() as s:
        later = s.exec(
            select(FollowUp).where(FollowUp.enrolment_id == eid, FollowUp.timepoint_months == 3)
        ).one()
        later.status = "completed"
        later.completed_on = date.today()
        s.add(later)
    with pytest.raises(ValidationError) as err:
        followup.change_programme(world.connector, eid, "samverkansmodell")
    assert err.value.fields == {"programme_code": ("error.followup_change_too_late", {})}
    with read_session() as s:
        assert s.get(Enrolment, eid).status == "active"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_follow_up_page_changes_the_programme(world):
    _consent_to_referral(world.patient)
    made = _refer(world)
    with read_session() as s:
        fid = s.exec(
            select(FollowUp.id).where(
                FollowUp.enrolment_id == made.follow_up.enrolment_id, FollowUp.timepoint_months == 0
            )
        ).one()
    at = app(world, id=str(fid))
    at.switch_page("app_pages/follow_up.py")
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key=f"fu{fid}_programme").set_value("samverkansmodell")
    at.button(key=f"fu{fid}_change_programme").click()
    at.run()
    assert not at.exception, at.exception
    assert translate("followup.programme_changed", "sv", programme="Samverkansmodell") in texts(at)
    with read_session() as s:
        active = s.exec(select(Enrolment).where(Enrolment.status == "active")).one()
    assert active.id != made.follow_up.enrolment_id
    # The page moved to the new programme's baseline follow-up.
    assert "Samverkansmodell" in texts(at)


@pytest.mark.parametrize("randomised", [False, True])
def test_a_changed_programme_counts_nobody_as_lost(world, randomised):
    """The old enrolment and its follow-ups are marked moved, not withdrawn: the follow-up
    completion rate counts the baseline once (the new enrolment's), and the old programme's
    evaluation leaves the person out unless it had randomised them (intention to treat)."""
    from services import evaluation, outcomes, summaries

    _consent_to_referral(world.patient)
    _screen(world, date.today() - timedelta(days=10))
    old_code, new_code = (
        ("samverkansmodell", "social_prescribing")
        if randomised
        else ("social_prescribing", "samverkansmodell")
    )
    if randomised:  # enrolled in the randomised programme first
        old_id = followup.enrol(world.connector, patient_id=world.patient, programme_code=old_code).id
        _respond(world, old_id, 0, answers=UCLA3)
    else:
        old_id = _refer(world).follow_up.enrolment_id
    followup.change_programme(world.connector, old_id, new_code)
    with read_session() as s:
        old = s.get(Enrolment, old_id)
        assert old.status == prog.MOVED
        statuses = set(s.exec(select(FollowUp.status).where(FollowUp.enrolment_id == old_id)).all())
        old_programme = old.programme_id
        centre = old.centre_id
    assert statuses == {prog.MOVED}
    summaries.refresh_summaries([centre])
    month = date.today().replace(day=1)
    done, due = summaries.read_summaries([centre], month.replace(year=month.year - 1), month)[
        (centre, "followup_completion")
    ]
    # the new baseline only (completed when the referral's screening was taken as baseline)
    assert (done, due) == ((0, 1) if randomised else (1, 1))
    year = (date.today() - timedelta(days=10)).year
    this_year = period(date(year, 1, 1), date(year, 12, 31))
    with read_session() as s:
        query = outcomes._Queries(s, (centre,), this_year, None, outcomes.disclosure_rules(), 6, date.today())
        assert query.followups()[:2] == ((0, 1) if randomised else (1, 1))  # Centre outcomes alike
    with read_session() as s:
        enrolments = evaluation._enrolments(old_programme, (centre,), this_year)
        counted = s.exec(select(enrolments.c.id)).all()
    assert counted == ([old_id] if randomised else [])


def test_a_moved_follow_up_points_to_the_new_programme_and_takes_no_answers(world):
    """The care page still lists the old programme's follow-ups (marked moved). Opening one shows
    where the person went on, and neither completing it nor answering a questionnaire on the old
    enrolment is accepted: either would count the old programme again, beside the new one."""
    _consent_to_referral(world.patient)
    _screen(world, date.today() - timedelta(days=10))
    old_id = _refer(world).follow_up.enrolment_id
    with read_session() as s:
        old_lines = dict(
            s.exec(
                select(FollowUp.timepoint_months, FollowUp.id).where(FollowUp.enrolment_id == old_id)
            ).all()
        )
    first = followup.change_programme(world.connector, old_id, "samverkansmodell")
    # samverkansmodell has no 3-month follow-up: its first one (the baseline) is where to go
    assert followup.follow_up_detail(world.connector, old_lines[3]).moved_to == first.follow_ups[0].id
    second = followup.change_programme(world.connector, first.id, "social_prescribing")
    new_six = next(f.id for f in second.follow_ups if f.timepoint_months == 6)
    detail = followup.follow_up_detail(world.connector, old_lines[6])
    assert detail.status == prog.MOVED
    assert detail.moved_to == new_six  # followed through both changes, same time point
    assert detail.moved_to_names["sv"] == "Social förskrivning"
    assert followup.follow_up_detail(world.connector, new_six).moved_to is None
    with pytest.raises(ValidationError) as err:
        followup.record_follow_up(world.connector, old_lines[6], attendance={})
    assert err.value.fields == {"follow_up": ("error.followup_moved", {})}
    with pytest.raises(ValidationError) as err:
        _respond(world, old_id, 6, answers=UCLA3)
    assert err.value.fields == {"enrolment_id": ("error.followup_moved", {})}
    with read_session() as s:
        assert s.get(FollowUp, old_lines[6]).status == prog.MOVED
        assert not s.exec(
            select(InstrumentResponse.id).where(InstrumentResponse.enrolment_id == old_id)
        ).all()
    assert events("follow_up.complete", "invalid")
    for lang in ("sv", "da", "en"):
        assert translate("error.followup_moved", lang) != "error.followup_moved"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_follow_up_page_of_a_moved_follow_up_links_to_the_new_one(world):
    _consent_to_referral(world.patient)
    old_id = _refer(world).follow_up.enrolment_id
    with read_session() as s:
        fid = s.exec(
            select(FollowUp.id).where(FollowUp.enrolment_id == old_id, FollowUp.timepoint_months == 6)
        ).one()
    new = followup.change_programme(world.connector, old_id, "samverkansmodell")
    at = app(world, id=str(fid))
    at.switch_page("app_pages/follow_up.py")
    at.run()
    assert not at.exception, at.exception
    assert translate("followup.moved_notice", "sv", programme="Samverkansmodell") in texts(at)
    new_six = next(f.id for f in new.follow_ups if f.timepoint_months == 6)
    links = [e.proto for e in at.get("page_link")]
    assert any(link.query_string == f"id={new_six}" for link in links), links
    assert not at.get("form"), "a moved follow-up offers no form"
    assert not [b for b in at.button if b.key == f"fu{fid}_change_programme"]
    # the care page marks the old enrolment as moved
    care = app(world, patient=str(world.patient))
    care.switch_page("app_pages/care.py")
    care.run()
    assert not care.exception, care.exception
    assert translate("followup.care.moved", "sv") in texts(care)
