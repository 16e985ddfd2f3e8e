"""Patients, privacy and volunteer signposting: services on SQLite and Postgres (the `db_url`
fixture), the pages through AppTest on SQLite.

Covers registration with consents and needs, Swedish personnummer / samordningsnummer and Danish
CPR, identity never in clear, consent history, the timeline, the patient's data export and access
extract, anonymisation under the retention rule, and the role and centre rules, which hold in the
service layer itself (a connector of another centre is denied and the denial is audited).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import text
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from db.engine import read_session, write_session
from db.models import (
    AuditEvent,
    CoachingContact,
    Enrolment,
    FollowUp,
    HealthMeasure,
    InstrumentResponse,
    Patient,
    PatientConsent,
    Programme,
    Referral,
    ReferralEvent,
    Service,
    Signposting,
)
from domain.national_id import parse_national_id
from domain.security import decrypt_identity
from locales import translate
from services import patients as pat
from services import privacy, signposting
from services.errors import AccessDenied, NotFound, ValidationError
from tests.factories import make_world

ROOT = Path(__file__).resolve().parents[1]
TOLVAN = "19121212-1212"
SAMORDNING = "701063-2391"  # born 1970-10-03: day 03 + 60
CPR = "010180-1234"
TODAY = date.today()


@pytest.fixture
def world(db_url):
    st.cache_data.clear()
    st.cache_resource.clear()
    return make_world()


def register(world, national_id=TOLVAN, country="SE", name="Tolvan Tolvansson", **extra):
    return pat.register_patient(
        world.principals["connector"],
        centre_id=world.centre_a,
        national_id=national_id,
        country=country,
        name=name,
        **extra,
    )


def events(action: str | None = None) -> list[AuditEvent]:
    with read_session() as s:
        query = select(AuditEvent).order_by(col(AuditEvent.id))
        if action:
            query = query.where(AuditEvent.action == action)
        return list(s.exec(query).all())


# --- Registration and national ids --------------------------------------------------------------


def test_registration_with_consents_needs_and_contact_preference_in_one_go(world):
    created = register(
        world,
        phone="070-123 45 67",
        sex="female",
        preferred_language="ar",
        contact_preference="do_not_contact",
        consents={"referral": True, "share_contact": False, "evaluation": True},
        needs=["grief", "loneliness", "grief"],
    )
    profile = pat.get_profile(world.principals["connector"], created.id)
    assert profile.name == "Tolvan Tolvansson" and profile.phone == "070-123 45 67"
    assert profile.national_id == "191212121212"
    assert profile.contact_preference == "do_not_contact"
    assert profile.preferred_language == "ar" and profile.sex == "female"
    assert profile.needs == ("loneliness", "grief")  # in NEED_CODES order, once each
    assert profile.consents == {"referral": True, "share_contact": False, "evaluation": True}
    assert set(profile.consent_dates) == {"referral", "share_contact", "evaluation"}
    assert profile.birth_date == date(1912, 12, 12) and profile.age >= 100
    assert pat.patient_needs(world.principals["connector"], created.id) == ["loneliness", "grief"]
    # One audited creation, not one per consent.
    assert [e.outcome for e in events("patient.create")] == ["ok"]


def test_swedish_personnummer_samordningsnummer_and_danish_cpr_are_accepted(world):
    connector = world.principals["connector"]
    se = register(world, TOLVAN)
    coordination = register(world, SAMORDNING, name="Samuel Samordning")
    dk = register(world, CPR, country="DK", name="Mette Jensen")
    assert parse_national_id(SAMORDNING, "SE").coordination is True
    assert (coordination.national_id, coordination.birth_year) == ("197010632391", 1970)
    assert (dk.national_id, dk.birth_year) == ("0101801234", 1980)
    # The search box accepts the common ways of writing each number.
    for typed in ("191212121212", "121212+1212", "19121212-1212", " 1912 1212 1212 "):
        assert pat.find_patient(connector, national_id=typed, country="SE").id == se.id, typed
    for typed in ("7010632391", "19701063-2391"):
        assert pat.find_patient(connector, national_id=typed, country="SE").id == coordination.id
    for typed in ("0101801234", "010180-1234"):
        assert pat.find_patient(connector, national_id=typed, country="DK").id == dk.id
    assert pat.find_patient(connector, national_id="811228-9874", country="SE") is None


def test_bad_numbers_and_fields_are_refused_field_by_field_and_nothing_is_written(world):
    cases = [
        ("19121212-1213", "SE", "error.national_id_checksum"),
        ("701063-2392", "SE", "error.national_id_checksum"),
        ("121212", "SE", "error.national_id_format"),
        ("19121312-1212", "SE", None),  # month 13: the check digit or the date fails
        ("320180-1234", "DK", "error.national_id_date"),
        ("01018-1234", "DK", "error.national_id_format"),
    ]
    for number, country, key in cases:
        with pytest.raises(ValidationError) as raised:
            register(world, number, country=country)
        assert "national_id" in raised.value.fields, number
        if key:
            assert raised.value.fields["national_id"] == (key, {}), number
    with pytest.raises(ValidationError) as raised:
        register(
            world,
            name=" ",
            phone="ring mig",
            contact_preference="pigeon",
            consents={"marketing": True},
            needs=["world_peace"],
            preferred_language="xx",
        )
    assert set(raised.value.fields) == {
        "name",
        "phone",
        "contact_preference",
        "consents",
        "needs",
        "preferred_language",
    }
    with pytest.raises(ValidationError) as raised:
        register(world, country="NO")
    assert "country" in raised.value.fields
    with read_session() as s:
        assert s.exec(select(Patient)).all() == []
    # A number already registered is refused kindly; the keyed hash prevents a duplicate.
    register(world)
    with pytest.raises(ValidationError) as raised:
        register(world, "121212+1212", name="Someone Else")
    assert raised.value.fields["national_id"] == ("error.patient_exists", {})


def test_identity_is_not_stored_in_clear_and_is_re_encrypted_on_change(world, db_url):
    created = register(world, name="Kanarie Zyxwvsson", phone="0739998877")
    with read_session() as s:
        raw = s.execute(text("SELECT * FROM patient WHERE id = :id"), {"id": created.id}).mappings().one()
    blob = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in raw.values() if v is not None)
    for secret in ("Kanarie", "Zyxwvsson", "0739998877", "191212121212", "121212-1212"):
        assert secret.encode() not in blob, secret
    before = raw["identity_enc"]
    pat.update_profile(world.principals["connector"], created.id, name="Kanarie Nyname", phone="0701112233")
    with read_session() as s:
        row = s.get(Patient, created.id)
    assert bytes(row.identity_enc) != bytes(before) and b"Nyname" not in bytes(row.identity_enc)
    identity = decrypt_identity(row.identity_enc, row.pseudonym)
    assert identity == {"national_id": "191212121212", "name": "Kanarie Nyname", "phone": "0701112233"}
    assert row.identity_hash == raw["identity_hash"]  # still found by the same number


def test_update_profile_changes_what_is_given_and_validates(world):
    connector = world.principals["connector"]
    created = register(world, needs=["loneliness"])
    profile = pat.update_profile(
        connector,
        created.id,
        what_matters="  Sjunga igen  ",
        interests="choir, walking",
        contact_preference="sms",
        needs=["grief", "physical_activity"],
    )
    assert profile.what_matters == "Sjunga igen" and profile.interests == "choir, walking"
    assert profile.contact_preference == "sms" and profile.name == "Tolvan Tolvansson"
    assert profile.needs == ("physical_activity", "grief")
    cleared = pat.update_profile(connector, created.id, what_matters="")
    assert cleared.what_matters is None and cleared.interests == "choir, walking"
    with pytest.raises(ValidationError) as raised:
        pat.update_profile(connector, created.id, what_matters="x" * 2001, contact_preference="fax", name="")
    assert raised.value.fields == {
        "what_matters": ("error.too_long", {"n": 2000}),
        "contact_preference": ("error.invalid_choice", {}),
        "name": ("error.required", {}),
    }
    assert pat.get_profile(connector, created.id).contact_preference == "sms"
    details = [e.detail for e in events("patient.update")]
    assert details[0] == "fields=contact_preference,what_matters,interests,needs"
    assert pat.set_needs(connector, created.id, ["other"]) == ("other",)


def test_consent_history_keeps_every_change_with_its_date(world):
    connector = world.principals["connector"]
    created = register(world, consents={"referral": True})
    assert pat.set_consent(connector, created.id, "referral", True) is None  # unchanged: no row
    withdrawn = pat.set_consent(connector, created.id, "referral", False)
    assert withdrawn.granted is False and withdrawn.recorded_at is not None
    pat.set_consent(connector, created.id, "referral", True)
    pat.set_consents(connector, created.id, {"share_contact": True, "evaluation": False})
    history = pat.consent_history(connector, created.id)
    referral = [(c.granted, c.recorded_by) for c in history if c.kind == "referral"]
    assert referral == [(True, "T-Connector"), (False, "T-Connector"), (True, "T-Connector")]
    times = [c.recorded_at for c in history]
    assert times == sorted(times, reverse=True)
    assert pat.get_profile(connector, created.id).consents == {
        "referral": True,
        "share_contact": True,
        "evaluation": False,
    }
    with pytest.raises(ValidationError):
        pat.set_consent(connector, created.id, "marketing", True)
    with pytest.raises(ValidationError):
        pat.set_consent(connector, created.id, "referral", "yes")
    assert [e.detail for e in events("patient.consent")] == [
        "referral=withdrawn",
        "referral=granted",
        "share_contact=granted",
        "evaluation=withdrawn",
    ]


# --- Timeline, export and access extract --------------------------------------------------------


def _rich_history(world, patient_id: int) -> dict:
    """Screenings, a referral with its history, a programme with follow-ups, a contact, a measure."""
    connector = world.principals["connector"]
    d = TODAY - timedelta(days=100)
    with write_session() as s:
        service = Service(organization_id=world.org, name="Promenadgruppen", municipality_id=None)
        programme = Programme(
            code="sp", name_sv="SP", name_da="SP", name_en="SP", timepoints=[0, 3], instruments=["ucla3"]
        )
        s.add_all([service, programme])
        s.flush()
        s.add(
            InstrumentResponse(
                patient_id=patient_id,
                centre_id=world.centre_a,
                instrument="ucla3",
                administered_on=d,
                answers={"companionship": 3, "left_out": 2, "isolated": 3},
                total=8,
                score=8,
                band="lonely",
            )
        )
        s.add(
            InstrumentResponse(
                patient_id=patient_id,
                centre_id=world.centre_a,
                instrument="phq9",
                administered_on=d + timedelta(days=1),
                answers={f"q{i}": 1 for i in range(1, 10)},
                total=9,
                score=9,
                band="mild",
                flags="self_harm",
            )
        )
        referral = Referral(
            patient_id=patient_id,
            centre_id=world.centre_a,
            service_id=service.id,
            need="loneliness",
            status="accepted",
            created_on=d + timedelta(days=2),
            created_by=connector.user_id,
        )
        s.add(referral)
        s.flush()
        s.add(ReferralEvent(referral_id=referral.id, status="requested", at=_at(d + timedelta(days=2))))
        s.add(ReferralEvent(referral_id=referral.id, status="accepted", at=_at(d + timedelta(days=5))))
        enrolment = Enrolment(
            patient_id=patient_id, programme_id=programme.id, centre_id=world.centre_a, enrolled_on=d
        )
        s.add(enrolment)
        s.flush()
        s.add(
            FollowUp(
                enrolment_id=enrolment.id,
                patient_id=patient_id,
                centre_id=world.centre_a,
                timepoint_months=3,
                due_on=d + timedelta(days=91),
                status="completed",
                completed_on=d + timedelta(days=92),
            )
        )
        s.add(
            CoachingContact(
                patient_id=patient_id,
                centre_id=world.centre_a,
                contact_on=d + timedelta(days=10),
                mode="phone",
                minutes=20,
                notes="Talade om kören",
            )
        )
        s.add(
            HealthMeasure(
                patient_id=patient_id,
                centre_id=world.centre_a,
                measured_on=d + timedelta(days=11),
                systolic=142,
                diastolic=88,
                weight_kg=81.5,
            )
        )
    return {"service": service.id, "referral": referral.id, "base": d}


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def test_timeline_lists_every_kind_newest_first(world):
    connector = world.principals["connector"]
    created = register(world, consents={"referral": True}, needs=["loneliness"])
    ids = _rich_history(world, created.id)
    entries = pat.timeline(connector, created.id)
    days = [e.on for e in entries]
    assert days == sorted(days, reverse=True)
    kinds = [e.kind for e in entries]
    d = ids["base"]
    assert [(e.on - d).days for e in entries if e.kind != "consent" and e.kind != "need"] == [
        92,
        11,
        10,
        5,
        2,
        1,
        0,
    ]
    assert kinds[:2] == ["consent", "need"] or kinds[:2] == ["need", "consent"]  # registered today
    assert kinds[2:] == [
        "follow_up",
        "measure",
        "contact",
        "referral_event",
        "referral",
        "screening",
        "screening",
    ]
    by_kind = {e.kind: e for e in entries}
    assert by_kind["referral_event"].summary == {
        "service": "Promenadgruppen",
        "status": "accepted",
        "reason": None,
    }
    assert by_kind["measure"].summary == {"systolic": 142, "diastolic": 88, "weight_kg": 81.5}
    phq = next(e for e in entries if e.kind == "screening" and e.summary["instrument"] == "phq9")
    assert phq.summary["flags"] == "self_harm"
    # The "requested" event is the referral itself: one entry, not two.
    assert kinds.count("referral_event") == 1


def test_export_contains_everything_stored_with_identity_decrypted(world):
    connector = world.principals["connector"]
    created = register(world, phone="0701234567", consents={"referral": True}, needs=["grief"])
    pat.update_profile(connector, created.id, what_matters="Sjunga igen")
    _rich_history(world, created.id)
    data = privacy.export_patient(connector, created.id)
    json.dumps(data)  # machine-readable as it is
    assert data["patient"]["national_id"] == "191212121212"
    assert data["patient"]["name"] == "Tolvan Tolvansson" and data["patient"]["phone"] == "0701234567"
    assert data["patient"]["what_matters"] == "Sjunga igen"
    assert data["patient"]["health_centre"]["code"] == "VC-A"
    assert [c["kind"] for c in data["consents"]] == ["referral"] and data["needs"][0]["need"] == "grief"
    ucla = next(r for r in data["responses"] if r["instrument"] == "ucla3")
    assert ucla["answers"] == {"companionship": 3, "left_out": 2, "isolated": 3}
    assert (ucla["total"], ucla["band"]) == (8, "lonely")
    assert next(r for r in data["responses"] if r["instrument"] == "phq9")["flags"] == ["self_harm"]
    (referral,) = data["referrals"]
    assert referral["activity"] == "Promenadgruppen"
    assert [e["status"] for e in referral["events"]] == ["requested", "accepted"]
    assert data["enrolments"][0]["programme"] == "sp"
    assert data["follow_ups"][0]["status"] == "completed"
    assert data["contacts"][0]["notes"] == "Talade om kören"
    assert data["measures"][0]["systolic"] == 142
    assert [e.patient_pseudonym for e in events("patient.export")] == [created.pseudonym]


def test_access_extract_lists_who_looked_and_who_was_refused(world):
    connector = world.principals["connector"]
    created = register(world)
    pat.get_profile(connector, created.id)
    with pytest.raises(AccessDenied):
        pat.get_profile(world.principals["connector_b"], created.id)
    rows = privacy.access_extract(connector, created.id)
    seen = [(r.user, r.role, r.action, r.outcome, r.care_unit) for r in rows]
    assert seen == [
        ("T-Connector-B", "connector", "patient.read", "denied", "VC-A"),
        ("T-Connector", "connector", "patient.read", "ok", "VC-A"),
        ("T-Connector", "connector", "patient.create", "ok", "VC-A"),
    ]
    assert [e.detail for e in events("patient.access_extract")] == ["rows=3"]
    csv_rows = privacy.access_csv_rows(rows)
    assert csv_rows[0][1:] == ["T-Connector-B", "connector", "patient.read", "denied", "VC-A"]


# --- Anonymisation ------------------------------------------------------------------------------


def _years_ago(years: int) -> date:
    try:
        return TODAY.replace(year=TODAY.year - years)
    except ValueError:  # 29 February
        return TODAY.replace(year=TODAY.year - years, day=28)


def _age_everything(patient_id: int, years_ago: int) -> None:
    old = _years_ago(years_ago)
    with write_session() as s:
        patient = s.get(Patient, patient_id)
        patient.created_at = _at(old)
        s.add(patient)
        for consent in s.exec(select(PatientConsent).where(PatientConsent.patient_id == patient_id)).all():
            consent.recorded_at = _at(old)
            s.add(consent)


def test_anonymisation_is_refused_inside_retention_and_done_outside(world, monkeypatch):
    monkeypatch.setenv("LOTSA_RETENTION_YEARS", "10")
    admin, connector = world.principals["admin"], world.principals["connector"]
    old = register(world, consents={"referral": True}, needs=["grief"])
    recent = register(world, SAMORDNING, name="Ny Patient")
    pat.update_profile(connector, old.id, what_matters="Sjunga", interests="kör")
    _age_everything(old.id, 12)
    with write_session() as s:  # an old screening, kept for statistics
        s.add(
            InstrumentResponse(
                patient_id=old.id,
                centre_id=world.centre_a,
                instrument="ucla3",
                administered_on=_years_ago(11),
                answers={"companionship": 1, "left_out": 1, "isolated": 1},
                total=3,
                score=3,
                band="not_lonely",
            )
        )
    # The update above is an event too (needs keep their registration date): age the needs as well.
    with write_session() as s:
        s.execute(
            text("UPDATE patient_need SET recorded_at = :at WHERE patient_id = :id"),
            {"at": _at(_years_ago(12)), "id": old.id},
        )
    listed = privacy.anonymisable(admin)
    assert [(a.patient_id, a.centre_code) for a in listed] == [(old.id, "VC-A")]
    assert listed[0].last_event == _years_ago(11)
    with pytest.raises(ValidationError) as raised:
        privacy.anonymise(admin, recent.id)
    assert raised.value.fields["patient"][0] == "error.patients_within_retention"
    assert [e.outcome for e in events("patient.anonymise")] == ["refused"]
    for role in ("connector", "manager", "partner", "volunteer"):
        with pytest.raises(AccessDenied):
            privacy.anonymise(world.principals[role], old.id)
        with pytest.raises(AccessDenied):
            privacy.anonymisable(world.principals[role])

    done = privacy.anonymise(admin, old.id)
    assert done.pseudonym == old.pseudonym
    with read_session() as s:
        row = s.get(Patient, old.id)
        kept = s.exec(select(InstrumentResponse).where(InstrumentResponse.patient_id == old.id)).all()
    assert row.identity_enc is None and row.identity_hash is None and row.anonymised_at is not None
    assert row.what_matters is None and row.interests is None
    assert [r.score for r in kept] == [3]  # pseudonymous scores stay
    assert pat.find_patient(connector, national_id=TOLVAN, country="SE") is None
    for call in (pat.get_patient, pat.get_profile, pat.timeline, privacy.export_patient):
        with pytest.raises(NotFound):
            call(connector, old.id)
    with pytest.raises(NotFound):
        pat.update_profile(connector, old.id, what_matters="x")
    with pytest.raises(NotFound):
        privacy.anonymise(admin, old.id)
    assert privacy.anonymisable(admin) == []
    # The same number can be registered again as a new patient.
    again = register(world)
    assert again.id != old.id


def test_the_retention_list_is_computed_once_per_data_version(world, monkeypatch):
    """Issue 14: the list of patients past retention is one anti-join over every patient (25x the
    clinic time at national size, on every rerun of the privacy page). It is cached under the
    patient tables' data version: a rerun reads no patient row, any event is seen at once, and every
    view is still audited."""
    from sqlalchemy import event

    monkeypatch.setenv("LOTSA_RETENTION_YEARS", "10")
    admin = world.principals["admin"]
    old = register(world)
    _age_everything(old.id, 12)
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    from db.engine import get_engine

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert [a.patient_id for a in privacy.anonymisable(admin)] == [old.id]
        first = [q for q in statements if "FROM patient" in q]
        statements.clear()
        assert [a.patient_id for a in privacy.anonymisable(admin)] == [old.id]
        assert not [q for q in statements if "FROM patient" in q], statements  # served from the cache
        assert first  # the first view did read the patients
        with write_session() as s:  # a screening today: no longer past retention
            s.add(
                InstrumentResponse(
                    patient_id=old.id, centre_id=world.centre_a, instrument="ucla3", administered_on=TODAY,
                    answers={"companionship": 1, "left_out": 1, "isolated": 1}, total=3, score=3,
                    band="not_lonely",
                )
            )  # fmt: skip
        assert privacy.anonymisable(admin) == []
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert len(events("privacy.list")) == 3


# --- Roles and centres --------------------------------------------------------------------------


def _all_patient_calls(patient_id: int):
    return {
        "patient.read": [
            lambda p: pat.get_patient(p, patient_id),
            lambda p: pat.get_profile(p, patient_id),
            lambda p: pat.patient_needs(p, patient_id),
            lambda p: pat.timeline(p, patient_id),
            lambda p: pat.consent_history(p, patient_id),
        ],
        "patient.update": [lambda p: pat.update_profile(p, patient_id, what_matters="x")],
        "patient.consent": [lambda p: pat.set_consent(p, patient_id, "referral", True)],
        "patient.needs": [lambda p: pat.set_needs(p, patient_id, ["grief"])],
        "patient.export": [lambda p: privacy.export_patient(p, patient_id)],
        "patient.access_extract": [lambda p: privacy.access_extract(p, patient_id)],
    }


@pytest.mark.parametrize("who", ["connector_b", "manager", "partner", "admin", "volunteer"])
def test_everyone_but_the_centres_connectors_is_denied_even_through_the_service(world, who):
    created = register(world)
    intruder = world.principals[who]
    for action, calls in _all_patient_calls(created.id).items():
        for call in calls:
            with pytest.raises(AccessDenied):
                call(intruder)
        denied = [e for e in events(action) if e.outcome == "denied"]
        assert denied and all(e.username == intruder.username for e in denied), action
        assert all(e.patient_pseudonym == created.pseudonym for e in denied), action
    with pytest.raises(AccessDenied):
        pat.find_patient(intruder, national_id=TOLVAN, country="SE")
    with pytest.raises(AccessDenied):
        pat.register_patient(intruder, centre_id=world.centre_a, national_id=CPR, country="DK", name="X")
    # Nothing changed.
    profile = pat.get_profile(world.principals["connector"], created.id)
    assert profile.what_matters is None and profile.needs == () and profile.consents == {}


def test_unknown_patient_is_not_found_and_audited(world):
    with pytest.raises(NotFound):
        pat.get_profile(world.principals["connector"], 999_999)
    with pytest.raises(NotFound):
        pat.get_profile(world.principals["connector"], "1; drop")
    assert [e.outcome for e in events("patient.read")] == ["not_found", "not_found"]


# --- Signposting ----------------------------------------------------------------------------------


def test_volunteer_logs_signposting_without_identity(world):
    volunteer = world.principals["volunteer"]
    assert not volunteer.centre_ids and not volunteer.organization_ids
    with write_session() as s:
        service = Service(organization_id=world.org, name="Språkcafé", municipality_id=None)
        s.add(service)
        s.flush()
        sid = service.id
    first = signposting.log_signposting(
        volunteer,
        setting="hairdresser",
        need="loneliness",
        service_id=sid,
        passed_to_connector=True,
        logged_on=TODAY - timedelta(days=1),
        idempotency_key="k-1",
    )
    again = signposting.log_signposting(
        volunteer,
        setting="hairdresser",
        need="loneliness",
        service_id=sid,
        passed_to_connector=True,
        idempotency_key="k-1",
    )
    assert again.id == first.id and first.service_name == "Språkcafé"
    connector_entry = signposting.log_signposting(
        world.principals["connector"], setting="pharmacy", need="grief", passed_to_connector=False
    )
    assert connector_entry.logged_on == TODAY
    mine = signposting.my_signpostings(volunteer)
    assert [(m.setting, m.need, m.passed_to_connector) for m in mine] == [("hairdresser", "loneliness", True)]
    with read_session() as s:
        columns = set(Signposting.__table__.columns.keys())
        assert s.exec(select(Signposting)).all().__len__() == 2
    assert not columns & {"patient_id", "name", "phone", "national_id", "pseudonym"}
    audited = [e for e in events("signposting.log")]
    assert [(e.username, e.patient_pseudonym) for e in audited] == [
        ("t-volunteer", None),
        ("t-connector", None),
    ]

    with pytest.raises(ValidationError) as raised:
        signposting.log_signposting(
            volunteer,
            setting="casino",
            need="world_peace",
            passed_to_connector="yes",
            logged_on=TODAY + timedelta(days=1),
        )
    assert raised.value.fields == {
        "setting": ("error.invalid_choice", {}),
        "need": ("error.invalid_choice", {}),
        "passed_to_connector": ("error.invalid_choice", {}),
        "logged_on": ("error.patients_date_in_future", {}),
    }
    with pytest.raises(ValidationError) as raised:
        signposting.log_signposting(
            volunteer, setting="library", need="grief", service_id=999_999, passed_to_connector=False
        )
    assert raised.value.fields == {"service_id": ("error.invalid_choice", {})}
    for role in ("partner", "manager", "admin"):
        with pytest.raises(AccessDenied):
            signposting.log_signposting(
                world.principals[role], setting="library", need="grief", passed_to_connector=False
            )
        with pytest.raises(AccessDenied):
            signposting.my_signpostings(world.principals[role])
    with read_session() as s:
        assert len(s.exec(select(Signposting)).all()) == 2


def test_volunteers_and_partners_cannot_touch_patients(world):
    for role in ("volunteer", "partner", "manager"):
        with pytest.raises(AccessDenied):
            pat.my_centres(world.principals[role])


# --- Pages ----------------------------------------------------------------------------------------


def app(world, role: str, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    principal = world.principals[role]
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


def sv(key: str, **params) -> str:
    return translate(key, "sv", **params)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_patients_page_search_not_found_register_then_patient_page(world):
    at = app(world, "connector")
    at.switch_page("app_pages/patients.py")
    at.run()
    assert not at.exception, at.exception
    assert sv("patients.search_first") in texts(at)
    assert not [w for w in at.text_input if w.key == "pr_name"]  # nothing before a search
    at.text_input(key="ps_number").set_value("19121212-1213")
    at.button[0].click().run()
    assert sv("error.national_id_checksum") in "\n".join(e.value for e in at.error)
    at.text_input(key="ps_number").set_value("121212+1212")  # born 1912: a plus after 100 years
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert sv("patients.not_found", number="121212+1212") in texts(at)
    assert at.text_input(key="pr_national_id").value == "121212+1212"
    # A bad phone keeps everything typed.
    at.text_input(key="pr_name").set_value("Tolvan Tolvansson")
    at.text_input(key="pr_phone").set_value("ring mig")
    at.selectbox(key="pr_contact").set_value("do_not_contact")
    at.multiselect(key="pr_needs").set_value(["loneliness", "grief"])
    at.checkbox(key="pr_consent_referral").check()
    register_button = next(b for b in at.button if b.label == sv("patients.register"))
    register_button.click().run()
    assert not at.exception, at.exception
    assert sv("error.phone_format") in "\n".join(e.value for e in at.error)
    assert at.text_input(key="pr_name").value == "Tolvan Tolvansson"
    assert at.multiselect(key="pr_needs").value == ["loneliness", "grief"]
    assert at.checkbox(key="pr_consent_referral").value is True
    at.text_input(key="pr_phone").set_value("070-123 45 67")
    next(b for b in at.button if b.label == sv("patients.register")).click().run()
    assert not at.exception, at.exception
    # Now on the patient page.
    assert any(t.value == "Tolvan Tolvansson" for t in at.title), texts(at)
    assert sv("patients.do_not_contact_warning") in texts(at)
    with read_session() as s:
        (patient,) = s.exec(select(Patient)).all()
        consents = s.exec(select(PatientConsent)).all()
    assert patient.contact_preference == "do_not_contact"
    assert {(c.kind, c.granted) for c in consents} == {
        ("referral", True),
        ("share_contact", False),
        ("evaluation", False),
    }
    # Searching again opens the patient at once.
    at = app(world, "connector")
    at.switch_page("app_pages/patients.py")
    at.run()
    at.text_input(key="ps_number").set_value("191212121212")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert any(t.value == "Tolvan Tolvansson" for t in at.title), texts(at)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_register_an_already_registered_number_links_to_the_patient(world):
    created = register(world)
    at = app(world, "connector")
    at.switch_page("app_pages/patients.py")
    at.run()
    # Someone else registers the number between the search and the click (or a double click).
    at.session_state["ps_not_found"] = ("SE", "19121212-1212")
    at.run()
    at.text_input(key="pr_national_id").set_value("19121212-1212")
    at.text_input(key="pr_name").set_value("Tolvan T")
    next(b for b in at.button if b.label == sv("patients.register")).click().run()
    assert not at.exception, at.exception
    assert sv("patients.already_registered") in texts(at)
    with read_session() as s:
        assert [p.id for p in s.exec(select(Patient)).all()] == [created.id]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_patient_page_edits_what_matters_and_consents(world):
    created = register(world, needs=["loneliness"])
    _rich_history(world, created.id)
    at = app(world, "connector", patient=str(created.id))
    at.switch_page("app_pages/patient.py")
    at.run()
    assert not at.exception, at.exception
    assert any(t.value == "Tolvan Tolvansson" for t in at.title)
    assert sv("patients.pseudonym_is", pseudonym=created.pseudonym) in texts(at)
    assert sv("patients.do_not_contact_warning") not in texts(at)
    links = {link.proto.label: link.proto.page for link in at.get("page_link")}
    assert {
        sv("patients.action_screening"),
        sv("patients.action_matching"),
        sv("patients.action_care"),
    } <= set(links)
    timeline_table = at.dataframe[0].value
    assert "Promenadgruppen" in " ".join(map(str, timeline_table.iloc[:, 2]))
    key = f"pp_{created.id}"
    at.text_area(key=f"{key}_what_matters").set_value("Att sjunga i kör igen")
    at.text_input(key=f"{key}_interests").set_value("kör, promenader")
    at.multiselect(key=f"{key}_needs").set_value(["loneliness", "grief"])
    at.selectbox(key=f"{key}_contact").set_value("do_not_contact")
    next(b for b in at.button if b.label == sv("patients.save")).click().run()
    assert not at.exception, at.exception
    assert sv("patients.saved") in texts(at)
    assert sv("patients.do_not_contact_warning") in texts(at)
    profile = pat.get_profile(world.principals["connector"], created.id)
    assert profile.what_matters == "Att sjunga i kör igen" and profile.needs == ("loneliness", "grief")
    # A failed save keeps what was typed.
    at.text_area(key=f"{key}_what_matters").set_value("Träffa barnbarnen")
    at.text_input(key=f"{key}_name").set_value("")
    next(b for b in at.button if b.label == sv("patients.save")).click().run()
    assert sv("error.required") in "\n".join(e.value for e in at.error)
    assert at.text_area(key=f"{key}_what_matters").value == "Träffa barnbarnen"
    assert pat.get_profile(world.principals["connector"], created.id).what_matters == "Att sjunga i kör igen"
    # Consents, each with its date.
    at.checkbox(key=f"pc_{created.id}_referral").check()
    at.checkbox(key=f"pc_{created.id}_evaluation").check()
    next(b for b in at.button if b.label == sv("patients.save_consents")).click().run()
    assert not at.exception, at.exception
    assert sv("patients.consents_saved", n=2) in texts(at)
    assert sv("patients.consent_given_on", date=datetime.now(UTC).date().isoformat()) in texts(at)
    assert pat.get_profile(world.principals["connector"], created.id).consents == {
        "referral": True,
        "evaluation": True,
    }
    labels = [b.label for b in at.get("download_button")]
    assert labels == [sv("patients.export_json"), sv("patients.export_access")]
    at.toggle(key=f"pr_show_access_{created.id}").set_value(True).run()
    assert not at.exception, at.exception
    assert sv("audit.action.patient.consent") in " ".join(map(str, at.dataframe[-1].value.iloc[:, 3]))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_patient_page_without_a_valid_patient_or_from_another_centre(world):
    created = register(world)
    for params, message in (
        ({}, "patients.no_patient_chosen"),
        ({"patient": "abc"}, "patients.no_patient_chosen"),
        ({"patient": "999999"}, "patients.no_patient_found"),
    ):
        at = app(world, "connector", **params)
        at.switch_page("app_pages/patient.py")
        at.run()
        assert not at.exception, at.exception
        assert sv(message) in texts(at)
    at = app(world, "connector_b", patient=str(created.id))
    at.switch_page("app_pages/patient.py")
    at.run()
    assert not at.exception, at.exception
    assert sv("patients.other_centre") in texts(at)
    assert "Tolvan" not in texts(at)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_privacy_page_anonymises_after_confirmation(world):
    old = register(world)
    _age_everything(old.id, 12)
    at = app(world, "admin")
    at.switch_page("app_pages/privacy.py")
    at.run()
    assert not at.exception, at.exception
    assert old.pseudonym in " ".join(map(str, at.dataframe[0].value.iloc[:, 0]))
    at.button(key="privacy_anonymise").click().run()
    assert not at.exception, at.exception
    assert sv("privacy.confirm_body", pseudonym=old.pseudonym, last=_years_ago(12).isoformat()) in texts(at)
    with read_session() as s:
        assert s.get(Patient, old.id).anonymised_at is None  # not before confirming
    at.button(key="anonymise_patient_yes").click().run()
    assert not at.exception, at.exception
    assert sv("privacy.done", pseudonym=old.pseudonym) in texts(at)
    with read_session() as s:
        assert s.get(Patient, old.id).anonymised_at is not None
    assert sv("privacy.none", years=10) in texts(at)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_signposting_page_logs_one_entry_and_lists_it(world):
    at = app(world, "volunteer")
    at.run()  # the volunteer's home is the signposting page
    assert not at.exception, at.exception
    assert any(t.value == sv("page.signposting") for t in at.title)
    at.selectbox(key="sp_setting").set_value("pharmacy")
    at.selectbox(key="sp_need").set_value("grief")
    at.checkbox(key="sp_passed").check()
    at.button(key="sp_save").click().run()
    assert not at.exception, at.exception
    assert sv(
        "signposting.saved", need=sv("patients.need_grief"), activity=sv("signposting.no_activity")
    ) in texts(at)
    assert at.selectbox(key="sp_setting").value == "pharmacy"  # kept for the next person
    assert at.checkbox(key="sp_passed").value is False  # reset
    mine = signposting.my_signpostings(world.principals["volunteer"])
    assert [(m.setting, m.need, m.passed_to_connector) for m in mine] == [("pharmacy", "grief", True)]
    assert list(at.dataframe[0].value.iloc[:, 1]) == [sv("signposting.setting_pharmacy")]
