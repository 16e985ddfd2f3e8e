"""One patient-scope rule (services/scope.py) in every patient service: an anonymised patient is
not found everywhere (screening used to accept it), another centre's connector is denied, and
nothing is written; every refusal is audited."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from db.engine import read_session, write_session
from db.models import (
    AuditEvent,
    CoachingContact,
    Enrolment,
    HealthMeasure,
    InstrumentResponse,
    Patient,
    Programme,
    Referral,
    Service,
    ShortlistItem,
)
from services import care, followup, matching, patients, privacy, referrals, screening
from services.errors import AccessDenied, NotFound
from tests.factories import make_world

UCLA3 = {"companionship": 2, "left_out": 2, "isolated": 2}


@pytest.fixture
def scoped(db_url):
    world = make_world()
    connector = world.principals["connector"]
    view = patients.register_patient(
        connector, centre_id=world.centre_a, national_id="19121212-1212", country="SE", name="Tolvan Test",
        consents={"referral": True, "share_contact": True, "evaluation": True},
    )  # fmt: skip
    with write_session() as s:
        s.add(Programme(code="sp", name_sv="SP", name_da="SP", name_en="SP", timepoints=[0, 3],
                        instruments=["ucla3"]))  # fmt: skip
        from db.models import Organization

        org = s.exec(select(Organization)).first()
        service = Service(organization_id=org.id, name="Promenad")
        s.add(service)
        s.flush()
        service_id = service.id
    return world, view.id, service_id


def _calls(pid: int, service_id: int):
    today = date.today()
    return {
        "screening.record": lambda p: screening.record_response(
            p, patient_id=pid, instrument="ucla3", answers=UCLA3
        ),
        "screening.list": lambda p: screening.list_responses(p, pid),
        "patients.get": lambda p: patients.get_patient(p, pid),
        "patients.profile": lambda p: patients.get_profile(p, pid),
        "patients.update": lambda p: patients.update_profile(p, pid, what_matters="x"),
        "patients.consents": lambda p: patients.set_consents(p, pid, {"referral": True}),
        "patients.needs": lambda p: patients.set_needs(p, pid, ["loneliness"]),
        "patients.timeline": lambda p: patients.timeline(p, pid),
        "referrals.create": lambda p: referrals.create_referral(p, patient_id=pid, service_id=service_id),
        "referrals.list": lambda p: referrals.patient_referrals(p, pid),
        "matching.facts": lambda p: matching.patient_facts(p, pid),
        "matching.suggest": lambda p: matching.suggest(p, pid),
        "matching.shortlist": lambda p: matching.shortlist(p, pid),
        "matching.add": lambda p: matching.add_to_shortlist(p, pid, service_id),
        "followup.enrol": lambda p: followup.enrol(p, patient_id=pid, programme_code="sp"),
        "followup.enrolments": lambda p: followup.patient_enrolments(p, pid),
        "care.contact": lambda p: care.log_contact(
            p, patient_id=pid, contact_on=today, mode="phone", minutes=10
        ),
        "care.measure": lambda p: care.record_measure(p, patient_id=pid, measured_on=today, systolic=120,
                                                      diastolic=80),
        "care.contacts": lambda p: care.list_contacts(p, pid),
        "care.measures": lambda p: care.list_measures(p, pid),
        "privacy.export": lambda p: privacy.export_patient(p, pid),
        "privacy.extract": lambda p: privacy.access_extract(p, pid),
    }  # fmt: skip


def _written() -> dict[str, int]:
    with read_session() as s:
        return {
            m.__name__: s.exec(select(func.count()).select_from(m)).one()
            for m in (InstrumentResponse, Referral, ShortlistItem, Enrolment, CoachingContact, HealthMeasure)
        }


def _audit(outcome: str) -> int:
    with read_session() as s:
        return s.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == outcome)).one()


def test_every_patient_service_refuses_an_anonymised_patient(scoped):
    world, pid, service_id = scoped
    connector = world.principals["connector"]
    calls = _calls(pid, service_id)
    # the rule allows the connector of the patient's centre while the patient is not anonymised
    screening.list_responses(connector, pid)
    with write_session() as s:
        s.get(Patient, pid).anonymised_at = datetime.now(UTC)
    before, not_found = _written(), _audit("not_found")
    for name, call in calls.items():
        with pytest.raises(NotFound):
            call(connector)
            pytest.fail(f"{name} accepted an anonymised patient")
    assert _written() == before
    assert _audit("not_found") == not_found + len(calls)


def test_every_patient_service_denies_another_centre_and_other_roles(scoped):
    world, pid, service_id = scoped
    calls = _calls(pid, service_id)
    before, denied = _written(), _audit("denied")
    for who in ("connector_b", "manager", "admin", "partner", "volunteer"):
        for name, call in calls.items():
            with pytest.raises(AccessDenied):
                call(world.principals[who])
                pytest.fail(f"{name} let {who} in")
    assert _written() == before
    assert _audit("denied") >= denied + 5 * len(calls)


def test_another_centre_cannot_learn_that_a_patient_is_anonymised(scoped):
    world, pid, _ = scoped
    with write_session() as s:
        s.get(Patient, pid).anonymised_at = datetime.now(UTC)
    with pytest.raises(AccessDenied):
        screening.record_response(
            world.principals["connector_b"], patient_id=pid, instrument="ucla3", answers=UCLA3
        )
    with pytest.raises(NotFound):
        screening.list_responses(world.principals["connector"], "1")  # not an id


def test_no_service_keeps_its_own_copy_of_the_scope_check():
    root = Path(__file__).resolve().parents[1] / "services"
    copies = []
    for path in sorted(root.glob("*.py")):
        if path.name == "scope.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"serves_centre\(\s*(patient|row\[\d\])\.centre_id", text):
            copies.append(path.name)
    assert copies == []
