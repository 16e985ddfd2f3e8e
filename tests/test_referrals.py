"""Referrals: creation with consent and idempotency, the status workflow with outcome reasons, the
warm handover, unanswered referrals, and the partner's closed loop with only consented fields.

Service tests run on SQLite and Postgres (the `db_url` fixture); page tests use AppTest on SQLite.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from db.engine import read_session, write_session
from db.models import (
    AuditEvent,
    Contact,
    Patient,
    PatientConsent,
    Phone,
    Referral,
    ReferralEvent,
    Service,
)
from domain.security import encrypt_identity, identity_hash
from locales import translate
from services import referrals as ref
from services.errors import AccessDenied, NotFound, ValidationError
from tests.factories import World, make_user, make_world

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 3, 2)
FULL_NAME = "Astrid Maria Lindqvist"
PHONE = "+46 70 123 45 67"


@dataclass
class RefWorld:
    world: World
    patient: int  # centre A, consents to referral and to sharing contact
    private: int  # centre A, consents to referral only
    no_consent: int  # centre A, referral consent withdrawn
    anonymised: int  # centre A, anonymised
    other_patient: int  # centre B
    service: int  # active, approved, of the partner's organisation
    inactive: int
    pending: int
    foreign_service: int  # of another organisation

    def p(self, role: str):
        return self.world.principals[role]


def _patient(s, centre: int, name: str, consents: list[tuple[str, bool]], *, anonymised=False) -> int:
    pseudonym = "P" + uuid.uuid4().hex[:9].upper()
    patient = Patient(
        pseudonym=pseudonym,
        centre_id=centre,
        identity_hash=identity_hash(uuid.uuid4().hex),
        identity_enc=encrypt_identity(
            {"national_id": "19400101-0000", "name": name, "phone": PHONE}, pseudonym
        ),
        birth_year=1940,
        anonymised_at=datetime.now(UTC) if anonymised else None,
    )
    s.add(patient)
    s.flush()
    base = datetime(2026, 1, 1, 9, tzinfo=UTC)
    for i, (kind, granted) in enumerate(consents):
        s.add(
            PatientConsent(patient_id=patient.id, kind=kind, granted=granted, recorded_at=base + timedelta(i))
        )
    return patient.id


def build() -> RefWorld:
    world = make_world()
    with write_session() as s:

        def service(org: int, name: str, **kw) -> int:
            row = Service(organization_id=org, name=name, **kw)
            s.add(row)
            s.flush()
            return row.id

        active = service(world.org, "Promenad i parken", email="info@ga.example")
        contact = Contact(service_id=active, name="Karin Berg", email="karin@ga.example")
        s.add(contact)
        s.flush()
        s.add(Phone(contact_id=contact.id, number="+46 40 11 22 33"))
        rw = RefWorld(
            world=world,
            patient=_patient(s, world.centre_a, FULL_NAME, [("referral", True), ("share_contact", True)]),
            private=_patient(
                s, world.centre_a, "Bengt Olof Nilsson", [("referral", True), ("share_contact", False)]
            ),
            no_consent=_patient(s, world.centre_a, "Cecilia Ek", [("referral", True), ("referral", False)]),
            anonymised=_patient(s, world.centre_a, "Dan Ny", [("referral", True)], anonymised=True),
            other_patient=_patient(
                s, world.centre_b, "Eva Berg", [("referral", True), ("share_contact", True)]
            ),
            service=active,
            inactive=service(world.org, "Nedlagd", status="inactive"),
            pending=service(world.org, "Väntar", approval_status="pending"),
            foreign_service=service(world.other_org, "Språkcafé"),
        )
    return rw


@pytest.fixture
def rw(db_url):
    return build()


def count(model) -> int:
    with read_session() as s:
        return s.scalar(select(func.count()).select_from(model))


def audits(action: str, outcome: str = "ok") -> list[AuditEvent]:
    with read_session() as s:
        return list(
            s.scalars(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.outcome == outcome))
        )


def new(rw: RefWorld, patient: int | None = None, service: int | None = None, **kw) -> ref.ReferralView:
    return ref.create_referral(
        rw.p("connector"),
        patient_id=patient or rw.patient,
        service_id=service or rw.service,
        today=TODAY,
        **kw,
    )


def field_keys(error: ValidationError) -> dict[str, str]:
    return {name: key for name, (key, _params) in error.fields.items()}


# --- Creation -----------------------------------------------------------------------------------


def test_create_referral_returns_the_view_with_the_contact_person(rw):
    view = new(rw, need="loneliness")
    assert (view.status, view.service_name, view.created_on) == ("requested", "Promenad i parken", TODAY)
    assert (view.contact_name, view.contact_phone, view.contact_email) == (
        "Karin Berg",
        "+46 40 11 22 33",
        "karin@ga.example",
    )
    with read_session() as s:
        row = s.get(Referral, view.id)
        events = s.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == view.id)).all()
        pseudonym = s.get(Patient, rw.patient).pseudonym
    assert (row.need, row.created_by, row.centre_id) == (
        "loneliness",
        rw.p("connector").user_id,
        rw.world.centre_a,
    )
    assert [(e.status, e.user_id) for e in events] == [("requested", rw.p("connector").user_id)]
    assert [a.patient_pseudonym for a in audits("referral.create")] == [pseudonym]


def test_same_idempotency_key_twice_creates_one_row_and_one_event(rw):
    key = uuid.uuid4().hex
    first = new(rw, idempotency_key=key)
    second = new(rw, idempotency_key=key)
    assert first == second
    assert (count(Referral), count(ReferralEvent), len(audits("referral.create"))) == (1, 1, 1)
    third = new(rw, idempotency_key=uuid.uuid4().hex)
    assert third.id != first.id and count(Referral) == 2


def test_idempotency_key_of_another_patient_is_refused(rw):
    key = uuid.uuid4().hex
    new(rw, idempotency_key=key)
    with pytest.raises(ValidationError):
        new(rw, patient=rw.private, idempotency_key=key)
    assert count(Referral) == 1


def test_patient_needs_consent(rw):
    with pytest.raises(ValidationError) as caught:
        new(rw, patient=rw.no_consent)
    assert field_keys(caught.value) == {"patient_id": "error.referral_no_consent"}
    assert count(Referral) == 0


def test_anonymised_patient_is_not_found_by_the_one_scope_rule(rw):
    # services.scope: an anonymised patient is NotFound for every patient service (audited)
    with pytest.raises(NotFound):
        new(rw, patient=rw.anonymised)
    assert count(Referral) == 0


def test_patient_without_any_consent_record_is_refused(rw):
    with write_session() as s:
        bare = _patient(s, rw.world.centre_a, "Frans Lund", [])
    with pytest.raises(ValidationError) as caught:
        new(rw, patient=bare)
    assert field_keys(caught.value) == {"patient_id": "error.referral_no_consent"}


@pytest.mark.parametrize("attr", ["inactive", "pending"])
def test_inactive_or_unapproved_activity_is_refused(rw, attr):
    with pytest.raises(ValidationError) as caught:
        new(rw, service=getattr(rw, attr))
    assert field_keys(caught.value) == {"service_id": "error.referral_activity_unavailable"}
    assert count(Referral) == 0


def test_unknown_need_and_activity_are_refused_per_field(rw):
    with pytest.raises(ValidationError) as caught:
        new(rw, service=999_999, need="astrology")
    assert field_keys(caught.value) == {
        "service_id": "error.referral_activity_unknown",
        "need": "error.invalid_choice",
    }


@pytest.mark.parametrize("role", ["connector_b", "partner", "manager", "admin"])
def test_only_a_connector_of_the_patients_centre_may_refer(rw, role):
    with pytest.raises(AccessDenied):
        ref.create_referral(rw.p(role), patient_id=rw.patient, service_id=rw.service)
    assert count(Referral) == 0
    assert len(audits("referral.create", "denied")) == 1


def test_unknown_patient_is_not_found(rw):
    with pytest.raises(NotFound):
        new(rw, patient=999_999)


# --- Workflow -----------------------------------------------------------------------------------


def test_allowed_transitions_keep_the_whole_history(rw):
    view = new(rw)
    connector = rw.p("connector")
    ref.set_status(connector, view.id, "accepted", note="Karin ringer upp")
    ref.set_status(connector, view.id, "in-progress")
    done = ref.set_status(connector, view.id, "completed", reason="got_help")
    assert (done.status, done.outcome_reason) == ("completed", "got_help")
    detail = ref.referral_detail(connector, view.id, today=TODAY)
    assert [(e.status, e.reason, e.note) for e in detail.events] == [
        ("requested", None, None),
        ("accepted", None, "Karin ringer upp"),
        ("in-progress", None, None),
        ("completed", "got_help", None),
    ]
    assert all(e.user == connector.display_name for e in detail.events)
    assert detail.allowed_next == ("entered-in-error",)
    assert len(audits("referral.status")) == 3


@pytest.mark.parametrize(
    ("path", "status"),
    [((), "completed"), ((), "in-progress"), (("accepted", "in-progress"), "accepted"), ((), "nonsense")],
)
def test_transitions_not_allowed_are_refused(rw, path, status):
    view = new(rw)
    for step in path:
        ref.set_status(rw.p("connector"), view.id, step)
    with pytest.raises(ValidationError) as caught:
        ref.set_status(rw.p("connector"), view.id, status, reason="got_help")
    assert "status" in caught.value.fields
    assert count(ReferralEvent) == 1 + len(path)


def test_closed_referral_is_final_except_entered_in_error(rw):
    view = new(rw)
    ref.set_status(rw.p("connector"), view.id, "cancelled", reason="no_longer_interested")
    with pytest.raises(ValidationError):
        ref.set_status(rw.p("connector"), view.id, "accepted")
    assert ref.set_status(rw.p("connector"), view.id, "entered-in-error").status == "entered-in-error"
    assert count(Referral) == 1  # never deleted


@pytest.mark.parametrize("status", ["rejected", "cancelled"])
def test_closing_needs_an_outcome_reason(rw, status):
    view = new(rw)
    with pytest.raises(ValidationError) as caught:
        ref.set_status(rw.p("connector"), view.id, status)
    assert field_keys(caught.value) == {"reason": "error.referral_reason_required"}
    with pytest.raises(ValidationError) as caught:
        ref.set_status(rw.p("connector"), view.id, status, reason="because")
    assert field_keys(caught.value) == {"reason": "error.invalid_choice"}
    assert (
        ref.set_status(rw.p("connector"), view.id, status, reason="no_capacity").outcome_reason
        == "no_capacity"
    )


def test_handover_is_logged_with_method_time_and_note(rw):
    view = new(rw)
    after = ref.log_handover(rw.p("connector"), view.id, "phone", note="Ringde Karin, hon väntar på tisdag")
    assert after.handover_method == "phone" and after.handover_at is not None
    detail = ref.referral_detail(rw.p("connector"), view.id, today=TODAY)
    last = detail.events[-1]
    assert (last.status, last.handover_method, last.note) == (
        "requested",
        "phone",
        "Ringde Karin, hon väntar på tisdag",
    )
    assert detail.view.status == "requested"
    assert len(audits("referral.handover")) == 1
    with pytest.raises(ValidationError) as caught:
        ref.log_handover(rw.p("connector"), view.id, "pigeon")
    assert field_keys(caught.value) == {"method": "error.invalid_choice"}


def test_another_centres_connector_is_denied_on_every_call(rw):
    view = new(rw)
    other = rw.p("connector_b")
    calls = [
        lambda: ref.referral_detail(other, view.id),
        lambda: ref.set_status(other, view.id, "accepted"),
        lambda: ref.log_handover(other, view.id, "phone"),
        lambda: ref.patient_referrals(other, rw.patient),
    ]
    for call in calls:
        with pytest.raises(AccessDenied):
            call()
    denied = [a.action for a in audits_any("denied")]
    assert sorted(denied) == sorted(
        ["referral.read", "referral.status", "referral.handover", "referral.list"]
    )
    assert ref.referral_detail(rw.p("connector"), view.id).view.status == "requested"


def audits_any(outcome: str) -> list[AuditEvent]:
    with read_session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.outcome == outcome)))


def test_patient_referrals_lists_newest_first(rw):
    a = new(rw)
    b = ref.create_referral(
        rw.p("connector"), patient_id=rw.patient, service_id=rw.service, today=TODAY + timedelta(days=3)
    )
    assert [v.id for v in ref.patient_referrals(rw.p("connector"), rw.patient)] == [b.id, a.id]
    assert ref.patient_referrals(rw.p("connector"), rw.private) == []


def test_unanswered_after_fourteen_days(rw):
    view = new(rw)
    other = ref.create_referral(
        rw.p("connector_b"), patient_id=rw.other_patient, service_id=rw.service, today=TODAY
    )
    connector = rw.p("connector")
    assert ref.unanswered(connector, today=TODAY + timedelta(days=14)) == []
    flagged = ref.unanswered(connector, today=TODAY + timedelta(days=15))
    assert [(u.referral_id, u.days, u.service_name) for u in flagged] == [(view.id, 15, "Promenad i parken")]
    assert flagged[0].pseudonym.startswith("P") and flagged[0].patient_id == rw.patient
    assert other.id not in {u.referral_id for u in flagged}
    assert ref.referral_detail(connector, view.id, today=TODAY + timedelta(days=15)).unanswered
    assert not ref.referral_detail(connector, view.id, today=TODAY + timedelta(days=14)).unanswered
    ref.set_status(connector, view.id, "accepted")
    assert ref.unanswered(connector, today=TODAY + timedelta(days=30)) == []
    with pytest.raises(AccessDenied):
        ref.unanswered(rw.p("partner"))


# --- Partner side -------------------------------------------------------------------------------


def test_partner_sees_only_its_own_organisations_referrals_and_consented_fields(rw):
    shared = new(rw)
    private = new(rw, patient=rw.private)
    foreign = new(rw, service=rw.foreign_service)
    rows = {r.id: r for r in ref.partner_referrals(rw.p("partner"), today=TODAY + timedelta(days=2))}
    assert set(rows) == {shared.id, private.id}
    assert foreign.id not in rows
    assert (rows[shared.id].first_name, rows[shared.id].phone) == ("Astrid", PHONE)
    assert (rows[private.id].first_name, rows[private.id].phone) == (None, None)
    assert rows[private.id].reference == ref.reference(private.id)
    assert rows[shared.id].days_waiting == 2 and rows[shared.id].service_name == "Promenad i parken"
    assert rows[shared.id].actions == ("accept", "decline")
    everything = repr(list(rows.values()))
    for secret in ("Lindqvist", "Maria", FULL_NAME, "Bengt", "Nilsson", "19400101", "1940", "loneliness"):
        assert secret not in everything
    with read_session() as s:
        pseudonyms = {s.get(Patient, rw.patient).pseudonym, s.get(Patient, rw.private).pseudonym}
    assert {a.patient_pseudonym for a in audits("referral.partner_read")} == pseudonyms


def test_withdrawn_share_consent_hides_the_name_again(rw):
    view = new(rw)
    with write_session() as s:
        s.add(
            PatientConsent(
                patient_id=rw.patient,
                kind="share_contact",
                granted=False,
                recorded_at=datetime(2026, 2, 1, tzinfo=UTC),
            )
        )
    (row,) = ref.partner_referrals(rw.p("partner"))
    assert row.id == view.id and row.first_name is None and row.phone is None


def test_partner_filters_waiting_active_closed(rw):
    waiting = new(rw)
    active = new(rw, patient=rw.private)
    ref.set_status(rw.p("connector"), active.id, "accepted")
    partner = rw.p("partner")
    assert [r.id for r in ref.partner_referrals(partner, status="waiting")] == [waiting.id]
    assert [r.id for r in ref.partner_referrals(partner, status="active")] == [active.id]
    assert ref.partner_referrals(partner, status="closed") == []
    with pytest.raises(ValidationError):
        ref.partner_referrals(partner, status="everything")


def test_partner_accepts_starts_and_marks_attended(rw):
    view = new(rw)
    partner = rw.p("partner")
    assert ref.partner_respond(partner, view.id, "accept") == "accepted"
    assert ref.partner_respond(partner, view.id, "started") == "in-progress"
    assert ref.partner_respond(partner, view.id, "attended") == "completed"
    detail = ref.referral_detail(rw.p("connector"), view.id)
    assert (detail.view.status, detail.view.outcome_reason) == ("completed", "got_help")
    assert [e.user for e in detail.events[1:]] == [partner.display_name] * 3
    assert len(audits("referral.partner_respond")) == 3


def test_partner_decline_and_not_attended_need_a_fitting_reason(rw):
    view = new(rw)
    partner = rw.p("partner")
    with pytest.raises(ValidationError) as caught:
        ref.partner_respond(partner, view.id, "decline")
    assert field_keys(caught.value) == {"reason": "error.referral_reason_required"}
    with pytest.raises(ValidationError) as caught:
        ref.partner_respond(partner, view.id, "decline", reason="got_help")
    assert field_keys(caught.value) == {"reason": "error.invalid_choice"}
    with pytest.raises(ValidationError) as caught:
        ref.partner_respond(partner, view.id, "attended")  # not from "requested"
    assert "action" in caught.value.fields
    assert (
        ref.partner_respond(partner, view.id, "decline", reason="no_capacity", note="Fullt till maj")
        == "rejected"
    )
    other = new(rw, patient=rw.private)
    ref.partner_respond(partner, other.id, "accept")
    with pytest.raises(ValidationError):
        ref.partner_respond(partner, other.id, "not_attended")
    assert ref.partner_respond(partner, other.id, "not_attended", reason="couldnt_contact") == "failed"
    with read_session() as s:
        assert (s.get(Referral, view.id).outcome_reason, s.get(Referral, other.id).outcome_reason) == (
            "no_capacity",
            "couldnt_contact",
        )


def test_partner_acting_on_another_organisations_referral_is_denied_and_audited(rw):
    foreign = new(rw, service=rw.foreign_service)
    with pytest.raises(AccessDenied):
        ref.partner_respond(rw.p("partner"), foreign.id, "accept")
    with read_session() as s:
        assert s.get(Referral, foreign.id).status == "requested"
        pseudonym = s.get(Patient, rw.patient).pseudonym
    denied = audits("referral.partner_respond", "denied")
    assert [(a.username, a.patient_pseudonym) for a in denied] == [(rw.p("partner").username, pseudonym)]
    # a partner of the other organisation may
    with write_session() as s:
        user = make_user(s, "t-partner-2", "partner", orgs=[rw.world.other_org])
        from services.auth import principal_for

        other_partner = principal_for(s, user)
    assert ref.partner_respond(other_partner, foreign.id, "accept") == "accepted"
    # connectors and other roles cannot use the partner functions
    for role in ("connector", "admin"):
        with pytest.raises(AccessDenied):
            ref.partner_referrals(rw.p(role))
        with pytest.raises(AccessDenied):
            ref.partner_respond(rw.p(role), foreign.id, "accept")


# --- Pages --------------------------------------------------------------------------------------


def app(rw: RefWorld, role: str, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    principal = rw.p(role)
    now = time.time()
    at.session_state["auth_user_id"] = principal.user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    for key, value in params.items():
        at.query_params[key] = value
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.header, *at.subheader, *at.markdown, *at.caption)]
    parts += [e.value for e in (*at.error, *at.warning, *at.info, *at.success)]
    return "\n".join(str(p) for p in parts)


@pytest.fixture
def page_world(sqlite_url):
    st.cache_data.clear()
    st.cache_resource.clear()
    return build()


def test_referral_page_without_a_valid_id_helps_back(page_world):
    for params in ({}, {"id": "banana"}, {"id": "999999"}):
        at = app(page_world, "connector", **params)
        at.switch_page("app_pages/referral.py")
        at.run()
        assert not at.exception, at.exception
        expected = "referral.not_found" if params.get("id", "").isdigit() else "referral.no_id"
        assert translate(expected, "sv") in texts(at)


def test_referral_page_of_another_centre_is_denied(page_world):
    view = ref.create_referral(
        page_world.p("connector_b"), patient_id=page_world.other_patient, service_id=page_world.service
    )
    at = app(page_world, "connector", id=str(view.id))
    at.switch_page("app_pages/referral.py")
    at.run()
    assert not at.exception, at.exception
    assert translate("error.access_denied", "sv") in texts(at)
    assert "Promenad i parken" not in texts(at)


def test_connector_logs_a_handover_and_changes_the_status(page_world):
    view = ref.create_referral(
        page_world.p("connector"),
        patient_id=page_world.patient,
        service_id=page_world.service,
        today=date.today() - timedelta(days=20),
    )
    at = app(page_world, "connector", id=str(view.id))
    at.switch_page("app_pages/referral.py")
    at.run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "Promenad i parken" in shown and "Karin Berg" in shown and "tel:+4640112233" in shown
    assert "mailto:karin@ga.example" in shown
    assert translate("referral.unanswered", "sv", n=20, limit=14) in shown  # unanswered warning
    # Submitting the handover without a method keeps the note and says what is missing.
    at.text_area(key="handover_note_0").input("Ringde Karin")
    at.button(
        key="FormSubmitter:handover_form_0-" + translate("referral.handover_submit", "sv")
    ).click().run()
    assert at.error and at.text_area(key="handover_note_0").value == "Ringde Karin"
    at.segmented_control(key="handover_method_0").set_value("phone")
    at.button(
        key="FormSubmitter:handover_form_0-" + translate("referral.handover_submit", "sv")
    ).click().run()
    assert not at.exception, at.exception
    phone = translate("handover_method.phone", "sv")
    assert translate("referral.handover_saved", "sv", method=phone) in texts(at)
    with read_session() as s:
        assert s.get(Referral, view.id).handover_method == "phone"
    assert at.text_area(key="handover_note_1").value == ""  # a fresh form after the save
    # Only allowed next statuses are offered; closing needs a reason.
    status = at.selectbox(key=f"status_new_{view.id}_1")
    assert tuple(status.options) == tuple(
        translate(f"referral_status.{c}", "sv")
        for c in ("accepted", "rejected", "cancelled", "entered_in_error")
    )
    status.set_value("rejected").run()
    at.button(key=f"status_save_{view.id}_1").click().run()
    assert translate("error.referral_reason_required", "sv") in texts(at)
    with read_session() as s:
        assert s.get(Referral, view.id).status == "requested"
    assert at.selectbox(key=f"status_reason_{view.id}_1").value is None
    at.selectbox(key=f"status_new_{view.id}_1").set_value("accepted").run()
    at.text_input(key=f"status_note_{view.id}_1").input("Karin hör av sig")
    at.button(key=f"status_save_{view.id}_1").click().run()
    assert not at.exception, at.exception
    status_text = translate("referral_status.accepted", "sv")
    assert translate("referral.status_saved", "sv", status=status_text) in texts(at)
    with read_session() as s:
        assert s.get(Referral, view.id).status == "accepted"
    history = at.dataframe[0].value
    assert list(history.iloc[:, 2]) == [
        status_text,
        translate("referral.history_handover", "sv", method=phone),
        translate("referral_status.requested", "sv"),
    ]
    assert "Karin hör av sig" in list(history.iloc[:, 4])
    assert translate("referral.unanswered", "sv", n=20, limit=14) not in texts(at)


def test_partner_page_accepts_a_referral_and_shows_only_consented_fields(page_world):
    shared = new(page_world)
    private = new(page_world, patient=page_world.private)
    foreign = new(page_world, service=page_world.foreign_service)
    at = app(page_world, "partner")
    at.switch_page("app_pages/partner_referrals.py")
    at.run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "Astrid" in shown and PHONE in shown.replace("\\", "")
    assert "Lindqvist" not in shown and "Bengt" not in shown and "Nilsson" not in shown
    assert ref.reference(private.id) in shown and ref.reference(foreign.id) not in shown
    at.button(key=f"accept_{shared.id}").click().run()
    assert not at.exception, at.exception
    assert translate(
        "partner_referrals.done_accept", "sv", who="Astrid", activity="Promenad i parken"
    ) in texts(at)
    with read_session() as s:
        assert s.get(Referral, shared.id).status == "accepted"
    # Declining asks for the reason in the same small form.
    submit = "FormSubmitter:decline_{id}-" + translate("partner_referrals.decline_submit", "sv")
    at.button(key=submit.format(id=private.id)).click().run()
    assert translate("error.referral_reason_required", "sv") in texts(at)
    at.selectbox(key=f"decline_reason_{private.id}").set_value("no_capacity")
    at.button(key=submit.format(id=private.id)).click().run()
    assert not at.exception, at.exception
    with read_session() as s:
        assert (s.get(Referral, private.id).status, s.get(Referral, private.id).outcome_reason) == (
            "rejected",
            "no_capacity",
        )
    assert translate("partner_referrals.empty_waiting", "sv") in texts(at)
    at.radio(key="pref_filter").set_value("active").run()
    assert "Astrid" in texts(at) and at.button(key=f"attended_{shared.id}")
