"""The connector's caseload: a new patient and a new referral are on it at once, each with name,
phone and the next action, most urgent first; own centres only; identities read are audited.

Service tests run on SQLite and Postgres (`db_url`); the home page test uses AppTest on SQLite.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.engine import read_session, write_session
from db.models import AuditEvent, FollowUp, Patient, Programme, Referral, Service
from locales import translate
from services import caseload, screening
from services.errors import AccessDenied, ValidationError
from services.patients import register_patient
from services.referrals import create_referral
from tests.factories import make_world

ROOT = Path(__file__).resolve().parents[1]
UCLA3 = {"companionship": 3, "left_out": 2, "isolated": 2}


class World:
    def __init__(self):
        st.cache_data.clear()
        st.cache_resource.clear()
        self.w = make_world()
        self.connector = self.w.principals["connector"]
        self.connector_b = self.w.principals["connector_b"]
        with write_session() as s:
            s.add(
                Programme(
                    code="social_prescribing",
                    name_sv="Social förskrivning",
                    name_da="Social ordination",
                    name_en="Social prescribing",
                    timepoints=[0, 3, 6],
                    instruments=["ucla3"],
                )
            )
            service = Service(organization_id=self.w.org, name="Promenadgruppen")
            s.add(service)
            s.flush()
            self.service = service.id

    def register(self, national_id: str, name: str, phone: str = "070-123 45 67", centre=None, **kw):
        principal = self.connector if centre is None else self.connector_b
        return register_patient(
            principal,
            centre_id=centre or self.w.centre_a,
            national_id=national_id,
            country="SE",
            name=name,
            phone=phone,
            consents={"referral": True},
            **kw,
        )


@pytest.fixture
def world(db_url):
    return World()


def audit(action: str) -> list[AuditEvent]:
    with read_session() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_new_patient_and_new_referral_appear_at_once_with_name_phone_and_next_action(world):
    assert caseload.caseload(world.connector).rows == ()
    greta = world.register("19460502-2369", "Greta Lind")
    [row] = caseload.caseload(world.connector).rows
    assert (row.patient_id, row.name, row.phone, row.action) == (
        greta.id,
        "Greta Lind",
        "070-123 45 67",
        "screening_missing",
    )
    # Screened and referred: the referral now waits for the activity's answer, and follow-up is planned.
    screening.record_response(world.connector, patient_id=greta.id, instrument="ucla3", answers=UCLA3)
    referral = create_referral(world.connector, patient_id=greta.id, service_id=world.service)
    [row] = caseload.caseload(world.connector).rows
    assert (row.action, row.referral_id, row.service_name, row.days) == (
        "referral_waiting",
        referral.id,
        "Promenadgruppen",
        0,
    )
    # Fourteen days on, unanswered; three months on, the follow-up is due that day.
    later = caseload.caseload(world.connector, today=date.today() + timedelta(days=14)).rows[0]
    assert later.action == "referral_unanswered" and later.days == 14
    with write_session() as s:
        s.get(Referral, referral.id).status = "accepted"
    due = referral.follow_up.next_due
    [row] = caseload.caseload(world.connector, today=due).rows
    assert (row.action, row.timepoint_months, row.on, row.days) == ("follow_up_today", 3, due, 0)
    assert row.follow_up_id == referral.follow_up.next_follow_up_id
    [row] = caseload.caseload(world.connector, today=due + timedelta(days=5)).rows
    assert (row.action, row.days) == ("follow_up_overdue", 5)


def test_most_urgent_first_and_only_own_centres(world):
    new = world.register("19460502-2369", "Greta Lind")
    late = world.register("19521224-4437", "Nils Berg")
    world.register("19390729-2829", "Karin Ek", centre=world.w.centre_b)
    screening.record_response(world.connector, patient_id=late.id, instrument="ucla3", answers=UCLA3)
    view = create_referral(world.connector, patient_id=late.id, service_id=world.service)
    with write_session() as s:
        fu = s.get(FollowUp, view.follow_up.next_follow_up_id)
        fu.due_on = date.today() - timedelta(days=3)
    rows = caseload.caseload(world.connector).rows
    assert [(r.name, r.action) for r in rows] == [
        ("Nils Berg", "follow_up_overdue"),
        ("Greta Lind", "screening_missing"),
    ]
    assert new.id in {r.patient_id for r in rows}
    assert [r.name for r in caseload.caseload(world.connector_b).rows] == ["Karin Ek"]


def test_identity_reads_are_audited_per_patient_and_other_roles_denied(world):
    greta = world.register("19460502-2369", "Greta Lind")
    caseload.caseload(world.connector)
    [summary] = audit("caseload.read")
    assert summary.detail == "n=1 total=1" and summary.outcome == "ok"
    reads = [e for e in audit("patient.read") if e.detail == "caseload"]
    assert [(e.patient_pseudonym, e.user_id) for e in reads] == [(greta.pseudonym, world.connector.user_id)]
    for role in ("manager", "partner", "admin", "volunteer"):
        with pytest.raises(AccessDenied):
            caseload.caseload(world.w.principals[role])
        with pytest.raises(AccessDenied):
            caseload.patient_names(world.w.principals[role], [greta.id])
    assert len([e for e in audit("caseload.read") if e.outcome == "denied"]) == 4


def test_no_phone_when_the_patient_asked_not_to_be_contacted_and_anonymised_left_out(world):
    greta = world.register("19460502-2369", "Greta Lind", contact_preference="do_not_contact")
    nils = world.register("19521224-4437", "Nils Berg")
    [row] = [r for r in caseload.caseload(world.connector).rows if r.patient_id == greta.id]
    assert row.name == "Greta Lind" and row.phone is None and row.contact_preference == "do_not_contact"
    with write_session() as s:
        s.get(Patient, nils.id).anonymised_at = s.get(Patient, nils.id).created_at
    assert [r.patient_id for r in caseload.caseload(world.connector).rows] == [greta.id]


def test_patient_names_only_for_own_centres_and_audited(world):
    greta = world.register("19460502-2369", "Greta Lind")
    karin = world.register("19390729-2829", "Karin Ek", centre=world.w.centre_b)
    assert caseload.patient_names(world.connector, [greta.id, karin.id, 999_999, "x"]) == {
        greta.id: "Greta Lind"
    }
    assert [e.patient_pseudonym for e in audit("patient.read") if e.detail == "name"] == [greta.pseudonym]


def test_caseload_is_limited_and_counted(world, monkeypatch):
    monkeypatch.setattr(caseload, "CASELOAD_LIMIT", 2)
    for nid, name in (("19460502-2369", "A"), ("19521224-4437", "B"), ("19390729-2829", "C")):
        world.register(nid, name)
    load = caseload.caseload(world.connector)
    assert len(load.rows) == 2 and load.total == 3
    assert len(caseload.caseload(world.connector, limit=caseload.CASELOAD_MAX).rows) == 3  # "show all"
    for bad in (0, caseload.CASELOAD_MAX + 1, "5", True):
        with pytest.raises(ValidationError) as caught:
            caseload.caseload(world.connector, limit=bad)
        assert set(caught.value.fields) == {"limit"}


# --- Home page -------------------------------------------------------------------------------------


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_home_lists_my_patients_with_name_phone_and_next_action(world):
    greta = world.register("19460502-2369", "Greta Lind")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    now = time.time()
    at.session_state["auth_user_id"] = world.connector.user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.run()
    assert not at.exception, at.exception
    shown = "\n".join(str(m.value) for m in (*at.markdown, *at.subheader, *at.caption))
    shown += "\n".join(el.proto.label for el in at.get("page_link"))
    assert translate("caseload.title", "sv") in shown
    assert "Greta Lind" in shown and "070-123 45 67" in shown
    assert translate("caseload.action_screening_missing", "sv") in shown
    assert greta.pseudonym in shown


def test_the_demo_patient_the_readme_names_is_first_on_my_patients(sqlite_url):
    """README: "Olof Olsson (personnummer 19550809-6699) is first on My patients"."""
    from db.demo import seed_demo
    from db.models import User
    from services.auth import principal_for
    from services.patients import find_patient

    seed_demo()
    with read_session() as s:
        user = s.exec(select(User).where(User.username == "demo-connector")).one()
        connector = principal_for(s, user)
    first = caseload.caseload(connector).rows[0]
    assert (first.name, first.action) == ("Olof Olsson", "follow_up_overdue")
    found = find_patient(connector, national_id="19550809-6699", country="SE")
    assert found is not None and found.id == first.patient_id
